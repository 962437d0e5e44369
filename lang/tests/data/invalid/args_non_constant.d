tcp:::send { i = 2; trace(args[i]->ip_ver); }
