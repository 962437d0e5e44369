BEGIN { a = (socklen_t)-1; b = sizeof (mode_t); c = (umode_t)70000; d = (dev_t)1; e = (loff_t)-1; }
