/* app_stub.c — keeps hg_app non-empty until the store and service land. */
int hg__app_placeholder(void);
int hg__app_placeholder(void) { return 0; }
