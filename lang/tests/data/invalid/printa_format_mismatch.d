tcp:::send { @c[execname] = count(); }
END { printa("%d %@u\n", @c); }
