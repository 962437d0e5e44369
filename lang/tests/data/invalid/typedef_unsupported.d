typedef int myint_t;
