tcp:::sned
{
	trace(1);
}
