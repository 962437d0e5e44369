tcp:::send { printf("%d\n", "x"); }
