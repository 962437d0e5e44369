sysinfo:::readch { trace(1); }
