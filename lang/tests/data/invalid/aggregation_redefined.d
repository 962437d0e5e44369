tcp:::send { @a = count(); }
tcp:::receive { @a = sum(1); }
