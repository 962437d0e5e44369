BEGIN { trace(copyinstr(0)); }
