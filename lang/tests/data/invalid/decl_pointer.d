int *p;
