/* this-> and self-> names may reuse built-in names. */
this int pid;
self string execname;
BEGIN { this->pid = pid; self->execname = execname; }
