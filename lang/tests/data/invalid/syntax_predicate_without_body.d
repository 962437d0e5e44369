tcp:::send /pid == 0/
