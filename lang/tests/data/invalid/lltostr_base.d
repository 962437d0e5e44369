BEGIN { trace(lltostr(5, 1)); }
