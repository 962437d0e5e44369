BEGIN { x = (foo_t *)0; }
