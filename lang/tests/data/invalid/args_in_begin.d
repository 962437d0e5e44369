BEGIN { trace(args[2]->ip_saddr); }
