#include <sys/socket.h>
BEGIN {}
