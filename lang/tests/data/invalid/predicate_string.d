tcp:::send /execname/ { trace(1); }
