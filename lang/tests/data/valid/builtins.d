/* Built-in variables: record-backed (catalog) and runtime-supplied. */
tcp:::send
{
	printf("%d %d %d %u %u %s %d %d\n", cpu, pid, tid, uid, gid, execname, timestamp, walltimestamp);
	printf("%s:%s:%s:%s %d %d %d\n", probeprov, probemod, probefunc, probename, epid, id, $target);
}
BEGIN { trace(cpu); trace(timestamp); }
tick-1s { trace(execname); }
