#pragma D option bufsize = 4m
BEGIN {}
