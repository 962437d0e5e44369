BEGIN { printf("%C\n", 1); }
