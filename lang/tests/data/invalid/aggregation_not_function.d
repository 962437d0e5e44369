tcp:::send { @a = 1; }
