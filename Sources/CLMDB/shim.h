#include <lmdb.h>
#include <stdint.h>

// sync_file_range(2) is only declared under _GNU_SOURCE, which Swift's Glibc module is not
// built with; glibc exports it on every Linux architecture Swift supports.
int sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags);
#define SHOEBOX_SYNC_FILE_RANGE_WRITE 2
