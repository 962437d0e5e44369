tcp:::send /execname == 0/ { trace(1); }
