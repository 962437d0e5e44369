/* Item 5: this->, self->, globals, associative arrays, aggregations. */
BEGIN { total = 0; }

tcp:::send
{
	this->len = args[2]->ip_plength;
	self->sent = self->sent + this->len;
	total = total + this->len;
	bytes[args[2]->ip_daddr, args[4]->tcp_dport] = this->len;
	bytes[args[2]->ip_daddr, args[4]->tcp_dport] += 1;
	@ = count();
	@pkts = count();
	@size[args[2]->ip_daddr] = sum(this->len);
	@avg[args[2]->ip_daddr, args[4]->tcp_dport] = avg(this->len);
	@lo = min(this->len);
	@hi = max(this->len);
	@sd = stddev(this->len);
	@q = quantize(this->len);
	@lq = lquantize(this->len, 0, 1500, 100);
	@lq2 = lquantize(this->len, 0, 10);
	@llq = llquantize(this->len, 10, 0, 6, 20);
}
END
{
	printa(@size);
	printa("%s %@d\n", @size);
	printa(@pkts, @);
	trunc(@avg, 5);
	trunc(@lo);
	normalize(@size, 1024);
	denormalize(@size);
	clear(@hi);
	trace(bytes["10.0.0.1", 80]);
	trace(total);
}
