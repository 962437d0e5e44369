tcp:::$1 { trace(1); }
