ip:::send { trace(args[3]->ip_ver); }
