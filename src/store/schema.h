/*
 * schema.h — the migration arrays of schema.c, one per dialect.
 */
#ifndef HG_STORE_SCHEMA_H
#define HG_STORE_SCHEMA_H

extern const char *const hg__sqlite_migrations[];
extern const char *const hg__pg_migrations[];
/* The number of migrations (= the newest schema version). */
#define HG__SCHEMA_VERSION 4

#endif
