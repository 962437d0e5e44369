tcp:::send { @a[execname] = count(); }
tcp:::receive { @a[execname, pid] = count(); }
