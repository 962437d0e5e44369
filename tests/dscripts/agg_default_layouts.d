/*
 * Every scalar aggregating function with string, integer and tuple keys,
 * printed by dtrace's exit-time print (no printa): rows sorted by value,
 * string keys left-justified in 50 columns, values in " %16lld".
 */
#pragma D option quiet

BEGIN
{
	@proto["tcp"] = count();
	@proto["udp"] = count();
	@proto["udp"] = count();
	@proto["icmp"] = count();
	@proto["icmp"] = count();
	@proto["icmp"] = count();

	@bytes[80, "http"] = sum(1500);
	@bytes[22, "ssh"] = sum(40);
	@bytes[80, "http"] = sum(500);

	@mean = avg(7);
	@mean = avg(8);

	@low = min(3);
	@low = min(-4);
	@high = max(3);
	@high = max(-4);

	/* population standard deviation of 2 4 4 4 5 5 7 9 is 2 */
	@spread = stddev(2);
	@spread = stddev(4);
	@spread = stddev(4);
	@spread = stddev(4);
	@spread = stddev(5);
	@spread = stddev(5);
	@spread = stddev(7);
	@spread = stddev(9);
	exit(0);
}
