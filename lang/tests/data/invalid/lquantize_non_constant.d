tcp:::send { lo = 0; @q = lquantize(args[2]->ip_plength, lo, 100, 10); }
