tick-5fortnights { trace(1); }
