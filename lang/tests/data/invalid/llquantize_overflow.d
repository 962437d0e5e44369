BEGIN { @a = llquantize(3, 10, 0, 19, 10); }
