#!/usr/sbin/dtrace -s
/*
 * Item 1: a #! first line, #pragma D option with and without a value,
 * a foreign pragma (ignored, as C compilers do) and block comments.
 */
#pragma D option quiet
#pragma D option bufsize=4m
#pragma   D   option   switchrate=10hz
#pragma ident "@(#)shebang_pragmas.d"

BEGIN /* a comment between tokens */ { exit(0); }
