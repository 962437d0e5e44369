BEGIN { x = (in6_addr_t *)0; }
