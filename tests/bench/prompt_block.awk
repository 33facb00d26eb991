# Prints exactly 1 MiB (1048576 bytes) of varied text lines for the large-prompt
# cases of tests/bench/run.sh: ASCII words and punctuation, multi-byte UTF-8
# (2, 3 and 4 bytes), double quotes, backslashes and tabs, all of which a
# JSON string must escape or carry intact. Deterministic (fixed seed). Run
# with LC_ALL=C, so that length() counts bytes.
BEGIN {
  srand(42)
  n = split("the quick brown fox jumps over the lazy dog, and then some: lorem ipsum dolor sit amet; " \
            "café naïve façade Zürich 日本語のテキスト Ελληνικά Привет мир 😀 🚀 " \
            "\"quoted\" \"she said \\\"hi\\\"\" 'single' C:\\Users\\me\\file.txt a\\nb \\\\ " \
            "{\"json\":[1,2,3]} <tag attr=\"x\"> & % $ # @ ! ~ ` | 42 3.14 -7 0x1F", words, " ")
  target = 1048576
  size = 0
  for (;;) {
    line = ""
    count = 3 + int(rand() * 14)
    for (i = 0; i < count; i++) {
      sep = rand() < 0.1 ? "\t" : " "
      line = line (i > 0 ? sep : "") words[1 + int(rand() * n)]
    }
    if (size + length(line) + 1 > target - 100) {
      break
    }
    print line
    size += length(line) + 1
  }
  pad = ""
  while (length(pad) < target - size - 1) {
    pad = pad "x"
  }
  print pad
}
