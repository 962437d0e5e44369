BEGIN { printf("bad \q escape\n"); }
