/*
 * Built-in variables. BEGIN and END run in rdtrace itself (its pid,
 * parent, uid, gid and name); a replayed segment has cpu, pid and tid 0
 * and no execname, and its time is the capture's. probe* name the probe,
 * id is its ID (as rdtrace -l lists it), epid the enabled probe (clause).
 * $$1 is the first macro argument as a string, $2 the second as an
 * integer; $target is 0 without -c/-p.
 */
#pragma D option quiet

BEGIN
{
	printf("BEGIN: pid ok %d, tid ok %d, ppid ok %d, uid ok %d, gid ok %d, cpu ok %d, execname %s\n",
	    pid == $pid, tid == $pid, ppid == $ppid, uid == $uid, gid == $gid, cpu >= 0, execname);
	printf("BEGIN: %s:%s:%s:%s id %d epid %d timestamp %d\n",
	    probeprov, probemod, probefunc, probename, id, epid, timestamp);
	printf("macros: [%s] %d $target %d\n", $$1, $2 + 1, $target);
}

tcp:::receive
{
	printf("receive: cpu %d pid %d tid %d execname [%s]\n", cpu, pid, tid, execname);
	printf("receive: %s:%s:%s:%s id %d epid %d\n", probeprov, probemod, probefunc, probename, id, epid);
	printf("receive: timestamp %d walltimestamp %d %Y\n", timestamp, walltimestamp, walltimestamp);
}

END
{
	printf("END: %s:%s:%s:%s id %d epid %d, pid ok %d\n", probeprov, probemod, probefunc, probename, id, epid, pid == $pid);
}
