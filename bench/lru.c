/*
 * The baseline `npm run bench` compares `vmscope replay --policy-only` against: a plain C LRU over a
 * text page trace (one decimal page id per line), as a researcher would write it in an afternoon.
 * It reads the file (or standard input) in 1 MiB blocks, parses each number by hand, finds the page
 * in an open-addressing hash table (linear probing, backward-shift deletion) and keeps the resident
 * pages on a doubly linked list, most recent at the head.
 *
 *   gcc -O2 -o lru lru.c && ./lru FRAMES [FILE]    prints "accesses hits faults"
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t *keys;   /* page id + 1 per bucket; 0 = empty */
static int32_t *slot_at; /* bucket -> slot */
static uint64_t mask;
static uint64_t *page_of; /* slot -> page id */
static int32_t *prev, *next;
static int32_t head = -1, tail = -1;

static uint64_t hash(uint64_t page) { return (page * 0x9E3779B97F4A7C15ull) >> 20; }

static int32_t lookup(uint64_t page) {
  for (uint64_t h = hash(page) & mask;; h = (h + 1) & mask) {
    if (keys[h] == page + 1) return slot_at[h];
    if (keys[h] == 0) return -1;
  }
}

static void insert(uint64_t page, int32_t slot) {
  uint64_t h = hash(page) & mask;
  while (keys[h] != 0) h = (h + 1) & mask;
  keys[h] = page + 1;
  slot_at[h] = slot;
}

static void erase(uint64_t page) {
  uint64_t i = hash(page) & mask;
  while (keys[i] != page + 1) i = (i + 1) & mask;
  for (uint64_t j = (i + 1) & mask; keys[j] != 0; j = (j + 1) & mask) {
    uint64_t home = hash(keys[j] - 1) & mask;
    /* Move j back to i when its home is not in (i, j] (cyclically). */
    if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
      keys[i] = keys[j];
      slot_at[i] = slot_at[j];
      i = j;
    }
  }
  keys[i] = 0;
}

static void unlink_slot(int32_t s) {
  if (prev[s] >= 0) next[prev[s]] = next[s]; else head = next[s];
  if (next[s] >= 0) prev[next[s]] = prev[s]; else tail = prev[s];
}

static void push_front(int32_t s) {
  prev[s] = -1;
  next[s] = head;
  if (head >= 0) prev[head] = s;
  head = s;
  if (tail < 0) tail = s;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: lru FRAMES [FILE]\n");
    return 2;
  }
  long frames = atol(argv[1]);
  FILE *in = argc > 2 ? fopen(argv[2], "rb") : stdin;
  if (frames < 1 || !in) {
    fprintf(stderr, "lru: bad frames or file\n");
    return 2;
  }
  uint64_t buckets = 16;
  while (buckets < (uint64_t)frames * 2) buckets *= 2;
  mask = buckets - 1;
  keys = calloc(buckets, sizeof *keys);
  slot_at = calloc(buckets, sizeof *slot_at);
  page_of = calloc(frames, sizeof *page_of);
  prev = calloc(frames, sizeof *prev);
  next = calloc(frames, sizeof *next);
  static char buf[1 << 20];
  uint64_t accesses = 0, faults = 0, page = 0;
  int32_t used = 0, digits = 0;
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
    for (size_t i = 0; i < n; i++) {
      char c = buf[i];
      if (c >= '0' && c <= '9') {
        page = page * 10 + (uint64_t)(c - '0');
        digits++;
        continue;
      }
      if (c != '\n' || digits == 0) continue;
      accesses++;
      int32_t s = lookup(page);
      if (s >= 0) {
        if (s != head) {
          unlink_slot(s);
          push_front(s);
        }
      } else {
        faults++;
        if (used < frames) s = used++;
        else {
          s = tail;
          unlink_slot(s);
          erase(page_of[s]);
        }
        page_of[s] = page;
        insert(page, s);
        push_front(s);
      }
      page = 0;
      digits = 0;
    }
  }
  printf("%llu %llu %llu\n", (unsigned long long)accesses, (unsigned long long)(accesses - faults),
         (unsigned long long)faults);
  return 0;
}
