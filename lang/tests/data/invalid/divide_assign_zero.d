BEGIN { x = 10; x /= 0; }
