tcp:::send { x = args[2]->ip_plength / 0; }
