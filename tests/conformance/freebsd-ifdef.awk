# Keeps the FreeBSD branch of a FreeBSD suite script: the lines inside
# `#ifdef FreeBSD` stay, those inside any other `#ifdef NAME` (STANDARD) go.
# google/packetdrill has no preprocessor; line numbers are kept (dropped
# lines become empty) so that packetdrill's messages point into the script.
/^#ifdef[ \t]/ { keep = ($2 == "FreeBSD"); inside = 1; print ""; next }
/^#else/       { keep = !keep; print ""; next }
/^#endif/      { inside = 0; print ""; next }
{ print ((!inside || keep) ? $0 : "") }
