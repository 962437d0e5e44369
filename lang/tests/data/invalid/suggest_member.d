tcp:::send { trace(args[3]->tcps_stat); }
