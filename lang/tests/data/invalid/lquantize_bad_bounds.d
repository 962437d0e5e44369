tcp:::send { @q = lquantize(args[2]->ip_plength, 100, 0, 10); }
