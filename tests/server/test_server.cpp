// gptq_test_server: a loopback HTTP/HTTPS server that imitates an
// OpenAI-compatible chat API, well and badly, for the integration tests.
//
// Usage: gptq_test_server --certs DIR [--timestamps FILE] [--verbose]
//   DIR is made by tests/certs/make_certs.sh. The server listens on
//   127.0.0.1 only, on ephemeral ports, one listener per kind:
//     https       TLS, server.pem/server.key (valid for localhost, 127.0.0.1, ::1)
//     expired     TLS, expired.pem/expired.key (validity in 2020)
//     wronghost   TLS, wronghost.pem/wronghost.key (SAN DNS:wrong.example only)
//     selfsigned  TLS, selfsigned.pem/selfsigned.key (not from the test CA)
//     http        plain HTTP
//     silent      plain TCP: accepts, never reads nor writes, keeps the
//                 connection until the peer closes it (or 300 s)
//   TLS listeners accept TLS 1.2 and 1.3; a failed handshake just drops the
//   connection. When ::1 is available, https also listens on [::1] at the
//   same port (then the ports line ends with https6=PORT, that port).
//   When all listen, one line goes to stdout (then a flush):
//     https=PORT expired=PORT wronghost=PORT selfsigned=PORT http=PORT silent=PORT
//   The server exits with status 0 when its stdin reaches EOF (so it dies
//   with the test that started it) and on SIGTERM or SIGINT.
//   --verbose logs one line per connection event to stderr.
//   --timestamps FILE appends "SEQ NS" lines to FILE for sse-bench (below).
//
// The mode of a request is the first segment of its target: a client given
// the base URL https://127.0.0.1:PORT/MODE/v1 posts to
// /MODE/v1/chat/completions (a ?query is ignored). Modes marked /NNN take a
// status code (200-599) as second segment: /status/429/v1/chat/completions.
// Every mode below is one entry of the table in modes(), which the dispatch
// (serve_mode) reads and --help lists; tests/server/check_modes.sh (the
// CTest server_modes) keeps this list and the table the same.
// Replies are application/json with Content-Length and honour keep-alive
// unless stated otherwise. A "completion" is
//   {"id":"chatcmpl-test","object":"chat.completion","created":1700000000,
//    "model":<request model>,"choices":[{"index":0,"message":{"role":
//    "assistant","content":C},"finish_reason":"stop"}],
//    "usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}
// and an "OpenAI error" is
//   {"error":{"message":M,"type":T,"param":null,"code":K}}.
//
//   echo             200 completion; C = the content string of the last message
//                    with role "user", byte for byte. A body that is not JSON,
//                    or has no user message with string content: 400 OpenAI
//                    error (type invalid_request_error).
//   request          200 completion; C = a JSON text (a string) describing the
//                    request: {"method":..,"target":..,"headers":{<lower-case
//                    name>: value, ...},"body":<raw body>}. Repeated headers
//                    are joined with ", ".
//   chunked          like echo, Transfer-Encoding: chunked, 7-byte chunks.
//   close            like echo, no Content-Length nor chunking, Connection:
//                    close; the body ends at close (TLS: close_notify first).
//   close-noshutdown like close, but TLS closes TCP without close_notify.
//   status/NNN       NNN, OpenAI error: message "test error NNN", type
//                    "test_type", code "test_code"; 429 adds Retry-After: 7.
//   errstr/NNN       NNN, {"error":"plain error text NNN"}
//   errmsg/NNN       NNN, {"message":"message field NNN"}
//   detail/NNN       NNN, {"detail":"detail text NNN"}
//   detaillist/NNN   NNN, {"detail":[{"loc":["body","model"],
//                    "msg":"field required","type":"missing"}]}
//   numcode/NNN      NNN, {"error":{"message":"numeric code NNN","code":NNN}}
//   context-full     400, OpenAI's error for a request longer than the
//                    model's context: "This model's maximum context length
//                    is ...", code "context_length_exceeded".
//   html502          502, text/html, an nginx "502 Bad Gateway" page.
//   leakkey          401, OpenAI error, message "Incorrect API key provided:
//                    KEY. You can find ..." where KEY is the Authorization
//                    value after "Bearer " (the whole value if no such prefix).
//   malformed        200, body {"choices":[{"message":{"content":"hi"
//                    (truncated JSON, correct Content-Length).
//   notjson          200, text/plain, body "hello, not json".
//   nocontent        200 completion with "choices":[].
//   nullcontent      200 completion with "content":null.
//   truncated        200, Content-Length: 1000, the first 40 bytes of a
//                    completion, then TCP close (no close_notify).
//   drop             reads the request, closes without a reply (TCP close,
//                    no close_notify).
//   hang             reads the request, sends nothing, keeps the connection
//                    until the peer closes it (or 300 s).
//   stall-body       200 head with Content-Length: 1000 and 20 body bytes,
//                    then nothing; kept until the peer closes it (or 300 s).
//   slow-head/MS     sleeps MS ms (0-600000), then replies as echo.
//   count            200 completion with model "test-model"; C = the length
//                    of the request body in bytes, in decimal ("67108999").
//                    The body is not parsed (any bytes will do) and may be up
//                    to 1 GiB; every other mode takes up to 64 MiB (a larger
//                    body drops the connection, unanswered). Never streamed,
//                    whatever "stream" in the request says. For the
//                    large-prompt benchmark (tests/bench).
//   anything else    404, OpenAI error "unknown test mode: MODE" (also for a
//                    missing or invalid NNN, MS, N, SIZE, BYTES or KIND).
//
// Streaming modes (sse*). Unless stated, the reply is 200, Content-Type:
// text/event-stream, Cache-Control: no-cache, Transfer-Encoding: chunked, no
// Content-Length, keep-alive honoured; TCP_NODELAY is on and each SSE event
// is written (and so sent) as its own HTTP chunk. The content C is echo's
// (a request echo rejects gets echo's 400 JSON error, not a stream), cut into
// pieces of 4 bytes, each extended to the end of a UTF-8 character so that
// no piece splits one. A "chunk(D, F)" is
//   {"id":"chatcmpl-test","object":"chat.completion.chunk","created":
//    1700000000,"model":<request model>,"choices":[{"index":0,"delta":D,
//    "finish_reason":F}]}
// and the standard stream is these events, each "data: JSON\n\n":
//   chunk({"role":"assistant","content":""}, null)
//   chunk({"content":PIECE}, null)        one per piece
//   chunk({}, "stop")
//   usage chunk                            only if the request body has
//       "stream_options":{"include_usage":true}: {"id":"chatcmpl-test",
//       "object":"chat.completion.chunk","created":1700000000,"model":..,
//       "choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,
//       "total_tokens":12}}
//   data: [DONE]
// then the last (zero) chunk: the body ends cleanly.
//
//   sse              the standard stream.
//   sse-bytes        the same bytes, head included, one byte per write (and
//                    TLS record), with a pause between writes of 1.2 s / the
//                    reply size, kept within 50 us..1 ms.
//   sse-crlf         the standard stream with every "\n" of the SSE framing
//                    as "\r\n" ("data: JSON\r\n\r\n").
//   sse-cr           the same with a lone "\r" ("data: JSON\r\r").
//   sse-comments     the standard events among what real servers also send
//                    (pieces count from 0; each quoted string below is one
//                    HTTP chunk; ROLE and JSON are the usual chunks):
//                      ": OPENROUTER PROCESSING\n\n", ": keep-alive\n\n",
//                      "event: message\nid: 1\ndata: ROLE\n\n";
//                      per piece i, one chunk: "id: i+2\n" if i % 3 == 0,
//                      "event: message\n" if i % 3 == 1, then for odd i a
//                      comment line ": keep-alive\n", then "data:JSON\n\n"
//                      (no space) for even i, "data: JSON\n\n" for odd i;
//                      after piece 0 an event with empty data, "data:\n\n"
//                      (a client must skip it), after later even pieces
//                      ": OPENROUTER PROCESSING\n\n";
//                      ": keep-alive\n\n", then finish, usage, [DONE] as usual.
//   sse-multi        several pieces per event and several events per chunk:
//                    each content event carries two pieces concatenated and
//                    each HTTP chunk two events (role + first content, ...).
//                    The first content event (the finish event if C is
//                    empty) has its JSON split after its first "," into two
//                    data lines, which SSE joins with "\n" (valid JSON):
//                      data: {"id":"chatcmpl-test",
//                      data: "object":"chat.completion.chunk",...}
//   sse-error        role event, two content pieces, then
//                    data: {"error":{"message":"upstream provider failed","code":502}}
//                    and the body ends cleanly (no finish, no [DONE]).
//   sse-malformed    role event, two pieces, then the bad JSON
//                    data: {"choices":[{"delta":{"content":"x"}
//                    and the body ends cleanly.
//   sse-stall        role event, two pieces, then nothing: no last chunk; kept
//                    until the peer closes it (or 300 s).
//   sse-drop         role event, two pieces, then TCP close: no last chunk,
//                    no close_notify.
//   sse-badrecord    role event, two pieces, then (TLS) a forged record of
//                    application data that no key decrypts, written on the
//                    TCP connection beneath TLS, then TCP close. Plain HTTP:
//                    as sse-drop.
//   sse-nodone       the standard stream without "data: [DONE]".
//   sse-nofinish-nodone  the standard stream without the finish event and
//                    without [DONE] (the usage chunk is still sent if asked).
//   sse-length       the standard stream, finish_reason "length".
//   sse-refusal      chunk({"role":"assistant"}, null),
//                    chunk({"content":null,"refusal":"I can't"}, null),
//                    chunk({"refusal":" help with that."}, null), then the
//                    finish event, usage chunk if asked, [DONE]. C is unused.
//   sse-reasoning    role event; "thinking..." in pieces as
//                    chunk({"content":null,"reasoning_content":PIECE}, null);
//                    chunk({"reasoning":"more thought"}, null); then the
//                    content pieces and the rest of the standard stream.
//   sse-delay/MS     the standard stream, sleeping MS ms (0-600000) before
//                    every event that follows the first content event.
//   sse-bench/N/SIZE for the benchmark (tests/bench): role event, then N
//                    (1-999999) content events of SIZE (8-1048576) ASCII bytes
//                    each, independent of the request: "#SSSSSS:" (SSSSSS the
//                    0-based sequence number, 6 digits) padded with "x";
//                    a 2 ms sleep before each; then finish, usage if asked,
//                    [DONE]. Just before writing piece SSSSSS the server reads
//                    CLOCK_MONOTONIC; with --timestamps FILE it appends
//                    "SEQ NS\n" (SEQ the sequence number in decimal, NS the
//                    clock in nanoseconds) per piece to FILE when the
//                    response ends, then flushes.
//   sse-json         200 application/json completion as echo (no stream,
//                    whatever "stream" in the request says).
//   sse-nocontenttype  the standard stream without a Content-Type header.
//   sse-big/BYTES    the standard stream, but C is BYTES (0-1073741824) bytes
//                    of "abcdefghijklmnopqrstuvwxyz0123456789\n" repeated, in
//                    1024-byte pieces, written as fast as the peer reads.
//                    The request need not be valid JSON.
// In sse-bench and sse-big the model is the request's if its body is JSON
// with one, else "test-model".
//
// Counting modes, for tests of retries. KEY is any segment; the server
// counts the requests it sees per KEY, in all modes together, for its
// whole life (tests pick a fresh KEY each time):
//   counted/KEY/MODE...  counts the request under KEY, then serves it as if
//                    its target began with MODE... (the segments after KEY):
//                    /counted/k1/sse-drop/v1/chat/completions is sse-drop.
//   flaky/KEY/N/KIND counts the request; the first N (0-1000000) requests
//                    with this KEY fail as KIND says, later ones succeed: as
//                    sse when the request body has "stream":true, else as
//                    echo. KIND is one of:
//                      NNN          NNN (200-599), OpenAI error: message
//                                   "flaky failure NNN", type "server_error"
//                                   for 5xx, "requests" for 429 (code
//                                   "rate_limit_exceeded", Retry-After: 0),
//                                   else "invalid_request_error".
//                      429ms        429 as above but retry-after-ms: 10 instead
//                                   of Retry-After.
//                      429quota     429, type and code "insufficient_quota",
//                                   no Retry-After.
//                      retry-long   503 with Retry-After: 3600.
//                      retry-date   503 with Retry-After: an HTTP date 2 s
//                                   after now (so a wait of 1-2 s).
//                      retry-long-date  503, Retry-After: a date 3600 s on.
//                      noretry      503 with x-should-retry: false.
//                      shouldretry  400 with x-should-retry: true.
//                      reset        reads the request, then resets the TCP
//                                   connection (SO_LINGER 0): no reply byte.
//                    KIND may also be a comma-separated list of kinds
//                    (503,reset): the i-th failing request fails as the
//                    i-th kind, the last kind repeating.
//   attempts/KEY     200 {"attempts":N}: the requests counted for KEY so far
//                    (0 for an unknown KEY); not itself counted. Any method.
//   no-close-notify/KEY  replies as echo; then, over TLS, never sends
//                    close_notify: it waits for the client's close_notify and
//                    counts the request under KEY when the client closes the
//                    connection (FIN or reset) right after it, with nothing
//                    in between; then keeps the connection until the peer
//                    closes it (or 300 s). A client that waits for the
//                    server's close_notify waits for its own time limit.
//                    Plain HTTP: echo, then the same hold, nothing counted.
//   batch/KEY        for batch mode (gptq -L): counts the request under KEY,
//                    then answers as echo (never streamed, whatever "stream"
//                    says), except as these whitespace-separated words of
//                    the content C say (the first of each kind counts):
//                      sleep=MS     sleeps MS ms (0-600000) first, so that
//                                   requests finish out of order.
//                      status=NNN   NNN (200-599), OpenAI error: message
//                                   "batch failure NNN", type "server_error"
//                                   for 5xx, "requests" for 429 (code
//                                   "rate_limit_exceeded", Retry-After: 0),
//                                   else "invalid_request_error".
//                      limit=S      the first request under KEY with this
//                                   word: 429 as status=429 but Retry-After:
//                                   S (1-60); the server notes when it was
//                                   sent. Later ones are answered as usual.
//                      hangup       after the reply (which allows keep-alive)
//                                   the server closes the connection: TLS
//                                   close_notify, then TCP close, as a server
//                                   whose idle timeout ran out.
//                    A bad MS, NNN or S is a 400 OpenAI error naming it.
//   stats/KEY        200 {"requests":R,"connections":C,"early":E}, not itself
//                    counted, any method: R as attempts/KEY; C the
//                    connections whose first request was counted under KEY
//                    (counted/KEY/..., flaky/KEY/..., batch/KEY); E the
//                    requests under KEY that arrived less than S seconds
//                    after the limit=S reply of KEY was sent.
//
// The Responses API. A request whose path ends in /responses
// (/MODE/v1/responses) is served by the mode resp-MODE when the table has
// one (echo, sse, sse-bench, and so counted/KEY/... and flaky/KEY/...
// when they serve those), else by MODE itself (status/NNN, drop, request
// ...). A "response object" is
//   {"id":"resp_test","object":"response","created_at":1700000000,
//    "status":S,"model":<request model>,"output":[ITEMS],
//    "usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":2},
//    "output_tokens":7,"output_tokens_details":{"reasoning_tokens":3},
//    "total_tokens":12}}
// whose message item is {"type":"message","id":"msg_test","status":
// "completed","role":"assistant","content":[{"type":"output_text",
// "text":T,"annotations":[]}]}; T is the request's `input` when that is a
// string, else the input_text parts of its last user message item (a body
// with neither: 400 OpenAI error, as echo's). The standard Responses stream
// is these events, each "event: TYPE\ndata: JSON\n\n", JSON holding "type"
// and "sequence_number" (from 0): response.created, response.in_progress,
// response.output_item.added, response.content_part.added, one
// response.output_text.delta per 4-byte piece of T (as sse cuts C),
// response.output_text.done, response.content_part.done,
// response.output_item.done, response.completed (the response object,
// status "completed"); then the last (zero) chunk. A resp-* mode streams
// when the request says "stream": true, else answers with the object.
//   resp-echo        the response object, status "completed", or the stream.
//   resp-sse         the standard Responses stream, whatever "stream" says.
//   resp-sse-bench/N/SIZE  as sse-bench, in Responses events: the pieces
//                    are response.output_text.delta events, then
//                    response.completed.
//   resp-reasoning   a reasoning item first ({"type":"reasoning","summary":
//                    [{"type":"summary_text","text":"thinking..."}]}), then
//                    the message; streamed, "thinking..." in 4-byte
//                    response.reasoning_summary_text.delta events before the
//                    text.
//   resp-incomplete  status "incomplete", "incomplete_details":{"reason":
//                    "max_output_tokens"}, with T; streamed, the text deltas
//                    then response.incomplete instead of response.completed.
//   resp-failed      status "failed", "error":{"code":"server_error",
//                    "message":"the model failed"}, no output; streamed,
//                    two text deltas then response.failed with that object.
//   resp-error       streamed: two text deltas, then the event "error" with
//                    {"type":"error","code":"rate_limit_exceeded","message":
//                    "slow down","param":null}, then the body ends; whole:
//                    as resp-echo.
//   resp-noend       streamed: the standard stream without
//                    response.completed; whole: as resp-echo.
//   resp-only        at /chat/completions: 404 OpenAI error "This model is
//                    only supported in v1/responses and not in
//                    v1/chat/completions." (type invalid_request_error);
//                    at /responses: as resp-echo.
//
// The Batch API, for gptq --batch-submit/--batch-wait: a client given the
// base URL https://127.0.0.1:PORT/batchapi/KEY/SCENARIO/v1 uploads files and
// runs batches there. State (files, batches, ids counting from 1 for each
// kind: file-N, batch_N, batch_req_N with req_N) is kept per KEY in memory
// for the server's life; every request but GET requests counts under KEY as
// in the counting modes (so attempts/KEY and stats/KEY see them). The route
// is what follows the first segment "files", "batches" or "requests" after
// SCENARIO (so .../SCENARIO/v1/files and .../SCENARIO/openai/v1/files are
// one route); no header is required.
//   batchapi/KEY/SCENARIO  SCENARIO is ok, errors, expire, failed, slow,
//                    reset-upload, hold or garbled (below). Routes:
//     POST files     multipart/form-data (boundary from Content-Type), fields
//                    "purpose" (must be "batch") and "file" (with a filename);
//                    the body may be up to 1 GiB. 200 {"id":"file-N","object":
//                    "file","bytes":B,"created_at":T,"filename":F,"purpose":
//                    "batch"}. Not multipart, malformed, or a field missing
//                    or wrong: 400 OpenAI error naming the problem.
//     GET files/ID/content  200 application/octet-stream, the file's bytes;
//                    unknown ID: 404 OpenAI error.
//     DELETE files/ID  200 {"id":ID,"object":"file","deleted":true}, the
//                    file gone (a batch whose input file is gone no longer
//                    moves); unknown ID: 404 OpenAI error.
//     POST batches   body {"input_file_id","endpoint","completion_window",
//                    "metadata"}: 200 batch object, status "validating". 400
//                    for a body that is not an object, an unknown input file,
//                    an endpoint other than /v1/chat/completions and
//                    /v1/responses, a completion_window other than "24h", a
//                    metadata neither object nor null.
//     GET batches/ID  moves the batch one step, then answers its batch
//                    object: validating -> in_progress (request_counts.total
//                    = the input's non-blank lines) -> finalizing (completed
//                    and failed counted) -> completed (output and error
//                    files made), which stays; with Retry-After: 0, so
//                    that gptq polls again at once. Unknown ID: 404 OpenAI
//                    error.
//     GET batches/ID/request  200, the create body as it was received.
//     POST batches/ID/cancel  status "cancelling" (a validating, in_progress
//                    or finalizing batch), then at the next poll "cancelled"
//                    with partial results as expire's (code
//                    "batch_cancelled", message "This request was cancelled
//                    before it could be executed."); a batch that has ended:
//                    400 OpenAI error.
//     GET batches?limit=N  200 {"object":"list","data":[batch objects,
//                    newest first, at most N (1-100, default 20)],"first_id":
//                    ..,"last_id":..,"has_more":B} (ids null when empty).
//     GET requests   200 {"object":"list","data":[{"method":..,"target":..,
//                    "headers":{..}} as request describes them, for every
//                    request under KEY before this one, oldest first]}; not
//                    itself counted nor listed (for tests of the key header).
//                    Other routes: 404 OpenAI error.
//                    A batch object is {"id":"batch_N","object":"batch",
//                    "endpoint":E,"errors":null,"input_file_id":..,
//                    "completion_window":"24h","status":S,"output_file_id":
//                    null,"error_file_id":null,"created_at":T,"expires_at":
//                    T+86400, "STATUS_at":T for each status entered after
//                    validating,"request_counts":{"total":0,"completed":0,
//                    "failed":0},"metadata":M (null if not given)}. When it
//                    ends, each input line (in a fixed shuffled order, not
//                    the input's) makes one line of the output file (status
//                    200) or the error file (others), {"id":"batch_req_N",
//                    "custom_id":CID,"response":{"status_code":NNN,
//                    "request_id":"req_N","body":B},"error":null}; B is what
//                    echo (chat) or resp-echo (responses) answers to the
//                    line's body. A file is made (purpose "batch_output",
//                    filename batch_N_output.jsonl or batch_N_error.jsonl)
//                    only when it has lines, else its id stays null;
//                    completed + failed = total.
//                    At validation, input lines that are not JSON, lack a
//                    custom_id string or a body object, or whose url is not
//                    the endpoint (and an empty file) fail the batch as the
//                    failed scenario does, one "errors" entry each.
//                    Scenarios:
//                      ok          as above.
//                      errors      lines whose user text (echo's C, or
//                                  resp-echo's T) contains "FAIL" go to the
//                                  error file with status_code 400 and body
//                                  {"error":{"message":"bad line","type":
//                                  "invalid_request_error","param":null,
//                                  "code":null}}.
//                      expire      the poll after in_progress: "expired";
//                                  the first half (rounded down) of the
//                                  lines in input order answered as ok, the
//                                  others in the error file with "response":
//                                  null, "error":{"code":"batch_expired",
//                                  "message":"This request could not be
//                                  executed before the completion window
//                                  expired."}.
//                      failed      validating -> failed, "errors":{"object":
//                                  "list","data":[{"code":"invalid_json",
//                                  "line":2,"message":..,"param":null}]},
//                                  counts 0, no files.
//                      slow        5 polls answer in_progress (completed
//                                  growing by total/5) before finalizing.
//                      reset-upload  the first POST files under KEY reads
//                                  the request, then resets the connection
//                                  as flaky's reset; later ones as ok.
//                      hold        as ok, but a poll through a hold URL
//                                  leaves an in_progress batch as it is
//                                  (Retry-After: 1), for a wait that is
//                                  interrupted: polled through another
//                                  SCENARIO's URL of the same KEY, the
//                                  batch moves on as ok.
//                      garbled     as ok, but the output file ends with
//                                  the line "<html>502 Bad Gateway</html>".
//
// Proxy refusals, for the http listener acting as an HTTP proxy (every
// listener does it): requests meant for a proxy whose target host is refuse-NNN.test (NNN 400-599): CONNECT
// refuse-NNN.test:PORT, or an absolute-form target http://refuse-NNN.test...
// The reply is NNN with a text/plain body "proxy refused: NNN" and
// Connection: close; 407 adds Proxy-Authenticate: Basic realm="gptq-test".
// Any other CONNECT gets the same reply with 405.
//
// "TCP close" is a FIN after which the server waits (up to 10 s) for the
// peer's close, so no reset can destroy data the peer has not read yet.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <openssl/ssl.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

namespace {

bool g_verbose = false;

// The --timestamps file (sse-bench), shared by all connections.
std::mutex g_timestamps_mutex;
std::FILE* g_timestamps = nullptr;

// The requests seen per KEY by the counting modes, shared by all connections.
std::mutex g_counts_mutex;
std::map<std::string, std::uint64_t, std::less<>> g_counts;

// Counts one more request for `key`; returns the new count.
std::uint64_t count_request(const std::string& key)
{
  std::lock_guard lock(g_counts_mutex);
  return ++g_counts[key];
}

std::uint64_t counted_requests(const std::string& key)
{
  std::lock_guard lock(g_counts_mutex);
  const auto it = g_counts.find(key);
  return it == g_counts.end() ? 0 : it->second;
}

// What batch/KEY and stats/KEY keep per KEY beside the request count, under
// g_counts_mutex.
struct BatchStats {
  std::uint64_t connections = 0;
  std::uint64_t early = 0;
  // When the limit=S reply was sent and until when its wait runs.
  std::optional<std::chrono::steady_clock::time_point> limited_until;
};
std::map<std::string, BatchStats, std::less<>> g_batch_stats;

// The KEY under which the counting mode of `seg` counts, if it is one.
std::optional<std::string> counting_key(const std::vector<std::string>& seg)
{
  if (seg.size() >= 2 && (seg[0] == "counted" || seg[0] == "flaky" || seg[0] == "batch" || seg[0] == "batchapi")) {
    return seg[1];
  }
  return std::nullopt;
}

void count_connection(const std::string& key)
{
  std::lock_guard lock(g_counts_mutex);
  ++g_batch_stats[key].connections;
}

// Counts a batch/KEY request: its number, and whether it came during the
// wait of a limit=S reply.
void count_batch_request(const std::string& key)
{
  std::lock_guard lock(g_counts_mutex);
  ++g_counts[key];
  BatchStats& stats = g_batch_stats[key];
  if (stats.limited_until && std::chrono::steady_clock::now() < *stats.limited_until) {
    ++stats.early;
  }
}

// Whether this is the first limit=S of KEY; if so, notes the wait from now.
bool take_limit(const std::string& key, int seconds)
{
  std::lock_guard lock(g_counts_mutex);
  BatchStats& stats = g_batch_stats[key];
  if (stats.limited_until) {
    return false;
  }
  stats.limited_until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  return true;
}

BatchStats batch_stats(const std::string& key)
{
  std::lock_guard lock(g_counts_mutex);
  const auto it = g_batch_stats.find(key);
  return it == g_batch_stats.end() ? BatchStats{} : it->second;
}

// One listener: its name in the ports line and, for TLS, its certificate.
struct Kind {
  const char* name;
  const char* cert; // base name in the certs dir; nullptr for plain TCP
  bool silent;
};

constexpr std::array<Kind, 6> kKinds{ {
  { "https", "server", false },
  { "expired", "expired", false },
  { "wronghost", "wronghost", false },
  { "selfsigned", "selfsigned", false },
  { "http", nullptr, false },
  { "silent", nullptr, true },
} };

constexpr int kHoldSeconds = 300;  // hang, stall-body, silent
constexpr int kLingerSeconds = 10; // waiting for the peer's close after ours

void log(const std::string& line)
{
  if (g_verbose) {
    std::cerr << "gptq_test_server: " + line + "\n" << std::flush;
  }
}

// Waits until the peer closes `fd` (FIN or reset) or `seconds` pass. With
// `drain`, data that arrives meanwhile is read and discarded; without it
// nothing is ever read.
void wait_peer_close(int fd, int seconds, bool drain)
{
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return;
    }
    pollfd p{};
    p.fd = fd;
    p.events = static_cast<short>(POLLRDHUP | (drain ? POLLIN : 0));
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
      return;
    }
    if (drain) {
      char scratch[4096];
      const ssize_t got = ::recv(fd, scratch, sizeof scratch, 0);
      if (got <= 0) {
        return;
      }
    } else if ((p.revents & POLLRDHUP) != 0) {
      return;
    }
  }
}

// Sends FIN, waits for the peer to close its side, then closes the socket.
void linger_close(tcp::socket& sock)
{
  error_code ec;
  sock.shutdown(tcp::socket::shutdown_send, ec);
  if (!ec) {
    wait_peer_close(sock.native_handle(), kLingerSeconds, true);
  }
  sock.close(ec);
}

tcp::socket& lowest(tcp::socket& s)
{
  return s;
}
tcp::socket& lowest(ssl::stream<tcp::socket>& s)
{
  return s.next_layer();
}

// Sends close_notify (TLS only) and waits for the peer's, or its EOF.
void close_notify(tcp::socket&) {}
void close_notify(ssl::stream<tcp::socket>& s)
{
  error_code ec;
  s.shutdown(ec);
}

std::string lower(std::string_view s)
{
  std::string out(s);
  std::transform(
    out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// --- Reply bodies ---------------------------------------------------------

json::object completion(json::value model, json::value content)
{
  json::object message{ { "role", "assistant" }, { "content", std::move(content) } };
  json::object choice{ { "index", 0 }, { "message", std::move(message) }, { "finish_reason", "stop" } };
  return json::object{
    { "id", "chatcmpl-test" },
    { "object", "chat.completion" },
    { "created", 1700000000 },
    { "model", std::move(model) },
    { "choices", json::array{ std::move(choice) } },
    { "usage", json::object{ { "prompt_tokens", 5 }, { "completion_tokens", 7 }, { "total_tokens", 12 } } },
  };
}

std::string openai_error(std::string_view message, std::string_view type, json::value code)
{
  return json::serialize(json::object{
    { "error",
      json::object{ { "message", message }, { "type", type }, { "param", nullptr }, { "code", std::move(code) } } } });
}

// A complete reply. `raw` replies bypass Beast's framing (see the modes).
struct Reply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

Reply error_reply(unsigned status,
                  std::string_view message,
                  std::string_view type = "invalid_request_error",
                  json::value code = nullptr)
{
  return Reply{ status, "application/json", openai_error(message, type, std::move(code)), {} };
}

// The request's model if its body is a JSON object with one, else a default.
json::value request_model(const json::value& body)
{
  if (const auto* obj = body.if_object()) {
    if (const auto* model = obj->if_contains("model")) {
      return *model;
    }
  }
  return "test-model";
}

// The content of the last message with role "user" in the request `doc`;
// nullptr if that message's content is not a string, or there is none.
const json::string* last_user_content(const json::value& doc)
{
  const json::string* content = nullptr;
  if (const auto* obj = doc.if_object()) {
    if (const auto* msgs = obj->if_contains("messages"); msgs && msgs->is_array()) {
      for (const auto& m : msgs->get_array()) {
        const auto* mo = m.if_object();
        if (mo == nullptr) {
          continue;
        }
        const auto* role = mo->if_contains("role");
        if (role != nullptr && role->is_string() && role->get_string() == "user") {
          const auto* c = mo->if_contains("content");
          content = c != nullptr ? c->if_string() : nullptr;
        }
      }
    }
  }
  return content;
}

// The echo reply: a completion whose content is the last user message's.
Reply echo_reply(const std::string& body)
{
  error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec) {
    return error_reply(400, "request body is not valid JSON: " + ec.message());
  }
  const json::string* content = last_user_content(doc);
  if (content == nullptr) {
    return error_reply(400, "no user message with string content");
  }
  return Reply{ 200, "application/json", json::serialize(completion(request_model(doc), *content)), {} };
}

// The headers of `req` as {<lower-case name>: value}, repeated headers
// joined with ", ".
template<class Request>
json::object header_object(const Request& req)
{
  json::object headers;
  for (const auto& field : req) {
    std::string name = lower(field.name_string());
    std::string_view value = field.value();
    if (auto* prev = headers.if_contains(name)) {
      json::string& s = prev->as_string();
      s.append(", ");
      s.append(value);
    } else {
      headers[name] = value;
    }
  }
  return headers;
}

// The request reply: a completion whose content describes the request.
template<class Request>
Reply request_reply(const Request& req)
{
  json::object described{
    { "method", std::string_view(req.method_string()) },
    { "target", std::string_view(req.target()) },
    { "headers", header_object(req) },
    { "body", req.body() },
  };
  error_code ec;
  json::value doc = json::parse(req.body(), ec);
  json::value model = ec ? json::value("test-model") : request_model(doc);
  return Reply{
    200, "application/json", json::serialize(completion(std::move(model), json::string(json::serialize(described)))), {}
  };
}

const char* const kHtml502 = "<html>\r\n"
                             "<head><title>502 Bad Gateway</title></head>\r\n"
                             "<body>\r\n"
                             "<center><h1>502 Bad Gateway</h1></center>\r\n"
                             "<hr><center>nginx/1.22.1</center>\r\n"
                             "</body>\r\n"
                             "</html>\r\n";

// --- Request routing -----------------------------------------------------

// The path segments of `target`, without query; an absolute-form target
// (http://host/path) is reduced to its path.
std::vector<std::string> segments(std::string_view target)
{
  if (auto q = target.find_first_of("?#"); q != std::string_view::npos) {
    target = target.substr(0, q);
  }
  if (auto scheme = target.find("://"); scheme != std::string_view::npos && target.find('/') > scheme) {
    auto path = target.find('/', scheme + 3);
    target = path == std::string_view::npos ? std::string_view{} : target.substr(path);
  }
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < target.size()) {
    auto j = target.find('/', i);
    if (j == std::string_view::npos) {
      j = target.size();
    }
    if (j > i) {
      out.emplace_back(target.substr(i, j - i));
    }
    i = j + 1;
  }
  return out;
}

// Parses a status code argument; nullopt unless it is 200..599.
std::optional<unsigned> status_arg(const std::vector<std::string>& seg)
{
  if (seg.size() < 2 || seg[1].size() != 3 ||
      !std::all_of(seg[1].begin(), seg[1].end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return std::nullopt;
  }
  unsigned v = static_cast<unsigned>(std::stoul(seg[1]));
  if (v < 200 || v > 599) {
    return std::nullopt;
  }
  return v;
}

// --- Connection handling -------------------------------------------------

using Request = http::request<http::string_body>;

template<class Stream>
bool write_all(Stream& stream, std::string_view bytes)
{
  error_code ec;
  net::write(stream, net::buffer(bytes.data(), bytes.size()), ec);
  return !ec;
}

// Writes a framed reply; returns whether the connection may carry on.
template<class Stream>
bool write_reply(Stream& stream, const Request& req, Reply reply)
{
  http::response<http::string_body> res;
  res.version(req.version());
  res.result(reply.status);
  if (http::int_to_status(reply.status) == http::status::unknown) {
    res.reason("Test Status");
  }
  res.set(http::field::server, "gptq-test-server");
  res.set(http::field::content_type, reply.content_type);
  for (auto& [name, value] : reply.extra_headers) {
    res.set(name, value);
  }
  res.keep_alive(req.keep_alive());
  res.body() = std::move(reply.body);
  res.prepare_payload();
  error_code ec;
  http::write(stream, res, ec);
  return !ec && !res.need_eof();
}

// Writes `reply` in Transfer-Encoding: chunked, 7 bytes per chunk.
template<class Stream>
bool write_chunked(Stream& stream, const Request& req, const Reply& reply)
{
  http::response<http::empty_body> res{ http::status::ok, req.version() };
  res.set(http::field::server, "gptq-test-server");
  res.set(http::field::content_type, reply.content_type);
  res.keep_alive(req.keep_alive());
  res.chunked(true);
  http::response_serializer<http::empty_body> sr{ res };
  error_code ec;
  http::write_header(stream, sr, ec);
  const std::string& body = reply.body;
  for (std::size_t i = 0; !ec && i < body.size(); i += 7) {
    std::size_t n = std::min<std::size_t>(7, body.size() - i);
    net::write(stream, http::make_chunk(net::buffer(body.data() + i, n)), ec);
  }
  if (!ec) {
    net::write(stream, http::make_chunk_last(), ec);
  }
  return !ec && req.keep_alive();
}

// A raw HTTP/1.1 head; `length` adds Content-Length, `close` Connection: close.
std::string raw_head(unsigned status,
                     std::string_view reason,
                     std::string_view content_type,
                     std::optional<std::size_t> length,
                     bool close)
{
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                  "\r\nServer: gptq-test-server\r\nContent-Type: " + std::string(content_type) + "\r\n";
  if (length) {
    h += "Content-Length: " + std::to_string(*length) + "\r\n";
  }
  if (close) {
    h += "Connection: close\r\n";
  }
  return h + "\r\n";
}

// What happens to the connection after a mode has been served.
// `reset` aborts the TCP connection (SO_LINGER 0: a RST, nothing more).
enum class After { keep_alive, graceful_close, tcp_close, hold, reset, done };

// --- Streamed replies ----------------------------------------------------

// What a stream is made of: the request's model, the reply content, and
// whether the request asked for a usage chunk.
struct StreamInput {
  json::value model = "test-model";
  std::string content;
  bool include_usage = false;
};

// Whether the request `doc` has "stream_options":{"include_usage":true}.
bool wants_usage(const json::value& doc)
{
  const auto* obj = doc.if_object();
  const auto* options = obj != nullptr ? obj->if_contains("stream_options") : nullptr;
  const auto* options_obj = options != nullptr ? options->if_object() : nullptr;
  const auto* flag = options_obj != nullptr ? options_obj->if_contains("include_usage") : nullptr;
  return flag != nullptr && flag->is_bool() && flag->get_bool();
}

// The stream input for a request `body` whose content is not used: the
// request's model and usage flag when the body is JSON, else the defaults.
StreamInput any_stream_input(const std::string& body)
{
  StreamInput in;
  error_code ec;
  json::value doc = json::parse(body, ec);
  if (!ec) {
    in.model = request_model(doc);
    in.include_usage = wants_usage(doc);
  }
  return in;
}

// The stream input with echo's content; nullopt, and `error` set to echo's
// error reply, when echo would reject `body`.
std::optional<StreamInput> echo_stream_input(const std::string& body, Reply& error)
{
  error_code ec;
  json::value doc = json::parse(body, ec);
  const json::string* content = ec ? nullptr : last_user_content(doc);
  if (content == nullptr) {
    error = echo_reply(body);
    return std::nullopt;
  }
  return StreamInput{ request_model(doc), std::string(*content), wants_usage(doc) };
}

// `s` cut into pieces of `size` bytes, each extended to the end of the UTF-8
// character it would otherwise split (continuation bytes are 10xxxxxx).
std::vector<std::string> utf8_pieces(std::string_view s, std::size_t size)
{
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = std::min(i + size, s.size());
    while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) {
      ++j;
    }
    out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// A chat.completion.chunk with one choice: `delta` and `finish_reason`.
std::string sse_chunk(const json::value& model, json::object delta, json::value finish_reason = nullptr)
{
  json::object choice{ { "index", 0 }, { "delta", std::move(delta) }, { "finish_reason", std::move(finish_reason) } };
  return json::serialize(json::object{
    { "id", "chatcmpl-test" },
    { "object", "chat.completion.chunk" },
    { "created", 1700000000 },
    { "model", model },
    { "choices", json::array{ std::move(choice) } },
  });
}

// The usage chunk sent before [DONE] when the request asks for it.
std::string usage_chunk(const json::value& model)
{
  return json::serialize(json::object{
    { "id", "chatcmpl-test" },
    { "object", "chat.completion.chunk" },
    { "created", 1700000000 },
    { "model", model },
    { "choices", json::array{} },
    { "usage", json::object{ { "prompt_tokens", 5 }, { "completion_tokens", 7 }, { "total_tokens", 12 } } },
  });
}

std::string content_chunk(const json::value& model, std::string_view piece)
{
  return sse_chunk(model, json::object{ { "content", piece } });
}

std::string role_chunk(const json::value& model)
{
  return sse_chunk(model, json::object{ { "role", "assistant" }, { "content", "" } });
}

// One SSE event carrying `data` in a single data line; `eol` ends the line
// and, once more, the event.
std::string data_event(std::string_view data, std::string_view eol = "\n")
{
  std::string e = "data: ";
  e.append(data);
  e.append(eol);
  e.append(eol);
  return e;
}

// Writes a streamed reply: the head, then each chunk() as one HTTP chunk in
// one write (so, with TCP_NODELAY, its own TCP segment or TLS record), then
// the last chunk. A `bytewise` writer holds everything until last() and then
// writes it one byte per write. After a failed write the rest is skipped and
// ok() is false.
// sse-badrecord: a TLS record of application data (TLS 1.2 and 1.3 alike
// on the wire) whose 32 bytes no key decrypts, beneath the TLS layer.
void write_forged_record(tcp::socket&) {}
void write_forged_record(ssl::stream<tcp::socket>& stream)
{
  std::string record = "\x17\x03\x03";
  record += '\0';
  record += '\x20';
  record += std::string(32, '\x5a');
  write_all(stream.next_layer(), record);
}

template<class Stream>
class ChunkWriter {
public:
  ChunkWriter(Stream& stream, bool bytewise)
    : stream_(stream)
    , bytewise_(bytewise)
  {
    error_code ec;
    lowest(stream_).set_option(tcp::no_delay(true), ec);
  }

  // An empty `content_type` leaves the header out.
  void head(std::string_view content_type, bool keep_alive)
  {
    std::string h = "HTTP/1.1 200 OK\r\nServer: gptq-test-server\r\n";
    if (!content_type.empty()) {
      h += "Content-Type: " + std::string(content_type) + "\r\n";
    }
    h += "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n";
    if (!keep_alive) {
      h += "Connection: close\r\n";
    }
    send(h + "\r\n");
  }

  // Empty `data` is skipped: a zero-size chunk would end the body.
  void chunk(std::string_view data)
  {
    if (data.empty()) {
      return;
    }
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    send(size + std::string(data) + "\r\n");
  }

  // Ends the body; returns whether every write succeeded.
  bool last()
  {
    send("0\r\n\r\n");
    if (bytewise_ && ok_) {
      play_bytewise();
    }
    return ok_;
  }

  bool ok() const { return ok_; }

private:
  void send(const std::string& bytes)
  {
    if (bytewise_) {
      held_ += bytes;
    } else if (ok_) {
      ok_ = write_all(stream_, bytes);
    }
  }

  // The pause between bytes keeps the peer's reads apart (one byte each)
  // while the whole reply takes about 1.2 s at most for small replies.
  void play_bytewise()
  {
    using std::chrono::microseconds;
    const auto gap = std::clamp(microseconds(1'200'000 / static_cast<long>(std::max<std::size_t>(held_.size(), 1))),
                                microseconds(50),
                                microseconds(1000));
    for (std::size_t i = 0; ok_ && i < held_.size(); ++i) {
      if (i > 0) {
        std::this_thread::sleep_for(gap);
      }
      ok_ = write_all(stream_, std::string_view(held_).substr(i, 1));
    }
  }

  Stream& stream_;
  bool bytewise_;
  bool ok_ = true;
  std::string held_;
};

// How a stream made by write_stream() differs from the standard one.
struct StreamShape {
  std::string_view eol = "\n";                // ends each SSE line
  std::optional<std::string> finish = "stop"; // nullopt: no finish event
  bool done = true;                           // send "data: [DONE]"
  std::chrono::milliseconds delay{ 0 };       // before each event after the first content event
};

// Writes the standard stream of `in` (see the modes) shaped by `shape`, but
// neither head nor last chunk.
template<class Stream>
void write_stream(ChunkWriter<Stream>& w, const StreamInput& in, const StreamShape& shape)
{
  bool delaying = false;
  auto event = [&](std::string_view data) {
    if (delaying && shape.delay.count() > 0) {
      std::this_thread::sleep_for(shape.delay);
    }
    w.chunk(data_event(data, shape.eol));
  };
  event(role_chunk(in.model));
  for (const auto& piece : utf8_pieces(in.content, 4)) {
    if (!w.ok()) {
      return;
    }
    event(content_chunk(in.model, piece));
    delaying = true;
  }
  if (shape.finish) {
    event(sse_chunk(in.model, json::object{}, json::string(*shape.finish)));
  }
  if (in.include_usage) {
    event(usage_chunk(in.model));
  }
  if (shape.done) {
    event("[DONE]");
  }
}

// The finish event, the usage chunk if asked for, and [DONE].
template<class Stream>
void write_stream_end(ChunkWriter<Stream>& w, const StreamInput& in)
{
  w.chunk(data_event(sse_chunk(in.model, json::object{}, "stop")));
  if (in.include_usage) {
    w.chunk(data_event(usage_chunk(in.model)));
  }
  w.chunk(data_event("[DONE]"));
}

// sse-comments: the standard events among comments, fields and an empty event.
template<class Stream>
void write_comments_stream(ChunkWriter<Stream>& w, const StreamInput& in)
{
  w.chunk(": OPENROUTER PROCESSING\n\n");
  w.chunk(": keep-alive\n\n");
  w.chunk("event: message\nid: 1\n" + data_event(role_chunk(in.model)));
  const auto pieces = utf8_pieces(in.content, 4);
  for (std::size_t i = 0; i < pieces.size() && w.ok(); ++i) {
    const std::string json = content_chunk(in.model, pieces[i]);
    std::string e;
    if (i % 3 == 0) {
      e += "id: " + std::to_string(i + 2) + "\n";
    } else if (i % 3 == 1) {
      e += "event: message\n";
    }
    if (i % 2 == 1) {
      e += ": keep-alive\n"; // a comment among the event's own lines
    }
    e += (i % 2 == 0 ? "data:" : "data: ") + json + "\n\n";
    w.chunk(e);
    if (i == 0) {
      w.chunk("data:\n\n");
    } else if (i % 2 == 0) {
      w.chunk(": OPENROUTER PROCESSING\n\n");
    }
  }
  w.chunk(": keep-alive\n\n");
  write_stream_end(w, in);
}

// sse-multi: two pieces per event, two events per chunk, one event's JSON
// over two data lines.
template<class Stream>
void write_multi_stream(ChunkWriter<Stream>& w, const StreamInput& in)
{
  std::vector<std::string> events{ data_event(role_chunk(in.model)) };
  const auto pieces = utf8_pieces(in.content, 4);
  for (std::size_t i = 0; i < pieces.size(); i += 2) {
    const std::string two = pieces[i] + (i + 1 < pieces.size() ? pieces[i + 1] : "");
    events.push_back(data_event(content_chunk(in.model, two)));
  }
  events.push_back(data_event(sse_chunk(in.model, json::object{}, "stop")));
  // events[1] is the first content event, or the finish event if there is
  // none; its first "," follows "chatcmpl-test", between two JSON tokens.
  std::string& split = events[1];
  split.insert(split.find(',') + 1, "\ndata: ");
  if (in.include_usage) {
    events.push_back(data_event(usage_chunk(in.model)));
  }
  events.push_back(data_event("[DONE]"));
  for (std::size_t i = 0; i < events.size() && w.ok(); i += 2) {
    w.chunk(events[i] + (i + 1 < events.size() ? events[i + 1] : ""));
  }
}

// CLOCK_MONOTONIC in nanoseconds, the clock of the --timestamps file.
std::int64_t monotonic_ns()
{
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Appends `lines` to the --timestamps file, if any, and flushes it.
void record_timestamps(const std::string& lines)
{
  std::lock_guard lock(g_timestamps_mutex);
  if (g_timestamps != nullptr && !lines.empty()) {
    std::fwrite(lines.data(), 1, lines.size(), g_timestamps);
    std::fflush(g_timestamps);
  }
}

// sse-bench: `count` numbered pieces of `size` bytes, 2 ms apart, each
// timestamped just before its write.
template<class Stream>
void write_bench_stream(ChunkWriter<Stream>& w, const StreamInput& in, std::size_t count, std::size_t size)
{
  w.chunk(data_event(role_chunk(in.model)));
  std::string stamps;
  for (std::size_t seq = 0; seq < count && w.ok(); ++seq) {
    char number[32];
    std::snprintf(number, sizeof number, "#%06zu:", seq);
    std::string piece(number);
    piece.resize(size, 'x');
    const std::string event = data_event(content_chunk(in.model, piece));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    stamps += std::to_string(seq) + " " + std::to_string(monotonic_ns()) + "\n";
    w.chunk(event);
  }
  write_stream_end(w, in);
  record_timestamps(stamps);
}

// sse-big: `bytes` bytes of a repeating pattern in 1 KiB pieces.
template<class Stream>
void write_big_stream(ChunkWriter<Stream>& w, const StreamInput& in, std::uint64_t bytes)
{
  constexpr std::string_view pattern = "abcdefghijklmnopqrstuvwxyz0123456789\n";
  w.chunk(data_event(role_chunk(in.model)));
  std::string piece;
  for (std::uint64_t at = 0; at < bytes && w.ok();) {
    const std::uint64_t n = std::min<std::uint64_t>(1024, bytes - at);
    piece.clear();
    for (std::uint64_t i = 0; i < n; ++i) {
      piece += pattern[(at + i) % pattern.size()];
    }
    w.chunk(data_event(content_chunk(in.model, piece)));
    at += n;
  }
  write_stream_end(w, in);
}

// Segment `i` of `seg` as a number in [lo, hi]; nullopt if it is missing,
// not all digits, or out of range.
std::optional<std::uint64_t> number_arg(const std::vector<std::string>& seg,
                                        std::size_t i,
                                        std::uint64_t lo,
                                        std::uint64_t hi)
{
  if (seg.size() <= i || seg[i].empty() || seg[i].size() > 12 ||
      !std::all_of(seg[i].begin(), seg[i].end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return std::nullopt;
  }
  const std::uint64_t v = std::stoull(seg[i]);
  if (v < lo || v > hi) {
    return std::nullopt;
  }
  return v;
}

// --- The modes -------------------------------------------------------------

using Segments = std::vector<std::string>;

// Writes `r`; returns what to do with the connection next.
template<class Stream>
After send(Stream& stream, const Request& req, Reply r)
{
  return write_reply(stream, req, std::move(r)) ? After::keep_alive : After::graceful_close;
}

Reply json_reply(unsigned status, std::string body)
{
  return Reply{ status, "application/json", std::move(body), {} };
}

// The 404 of a mode that does not exist or was given bad arguments.
template<class Stream>
After unknown_mode(Stream& stream, const Request& req, const std::string& what)
{
  return send(
    stream, req, error_reply(404, "unknown test mode: " + what, "invalid_request_error", "unknown_test_mode"));
}

// The mode `seg[0]` with its first `count` arguments (those given), then "
// (RULE)": what the 404 of bad arguments names.
std::string mode_and_args(const Segments& seg, std::size_t count, std::string_view rule)
{
  std::string what = seg[0];
  for (std::size_t i = 1; i < seg.size() && i <= count; ++i) {
    what += "/" + seg[i];
  }
  return what + " (" + std::string(rule) + ")";
}

// Serves one request in the mode `seg` names (seg[0] the mode, then its
// arguments), as the table of modes says; returns what to do with the
// connection next.
template<class Stream>
After serve_mode(Stream& stream, const Request& req, const Segments& seg);

template<class Stream>
After serve_echo(Stream& stream, const Request& req, const Segments&)
{
  return send(stream, req, echo_reply(req.body()));
}

template<class Stream>
After serve_request(Stream& stream, const Request& req, const Segments&)
{
  return send(stream, req, request_reply(req));
}

template<class Stream>
After serve_chunked(Stream& stream, const Request& req, const Segments&)
{
  Reply r = echo_reply(req.body());
  if (r.status != 200) {
    return send(stream, req, std::move(r));
  }
  return write_chunked(stream, req, r) ? After::keep_alive : After::graceful_close;
}

// close and close-noshutdown: echo's reply ended by closing the connection
// as `after` says.
template<class Stream>
After serve_close(Stream& stream, const Request& req, After after)
{
  Reply r = echo_reply(req.body());
  std::string reason(http::obsolete_reason(http::int_to_status(r.status)));
  write_all(stream, raw_head(r.status, reason, r.content_type, std::nullopt, true) + r.body);
  return after;
}

template<class Stream>
After serve_count(Stream& stream, const Request& req, const Segments&)
{
  const std::string length = std::to_string(req.body().size());
  return send(stream, req, json_reply(200, json::serialize(completion("test-model", json::string(length)))));
}

template<class Stream>
After serve_leakkey(Stream& stream, const Request& req, const Segments&)
{
  std::string_view auth;
  if (auto it = req.find(http::field::authorization); it != req.end()) {
    auth = it->value();
  }
  if (auth.size() >= 7 && lower(auth.substr(0, 7)) == "bearer ") {
    auth.remove_prefix(7);
  }
  return send(stream,
              req,
              error_reply(401,
                          "Incorrect API key provided: " + std::string(auth) +
                            ". You can find your API key at https://platform.openai.com/account/api-keys.",
                          "invalid_request_error",
                          "invalid_api_key"));
}

// nocontent and nullcontent: a completion whose content is null, and
// without choices when `no_choices`.
template<class Stream>
After serve_no_content(Stream& stream, const Request& req, bool no_choices)
{
  error_code ec;
  json::value doc = json::parse(req.body(), ec);
  json::object c = completion(ec ? json::value("test-model") : request_model(doc), nullptr);
  if (no_choices) {
    c["choices"] = json::array{};
  }
  return send(stream, req, json_reply(200, json::serialize(c)));
}

// truncated and stall-body: a head promising 1000 bytes, the first `sent`
// bytes of a completion of `content`, then `after`.
template<class Stream>
After serve_short_body(Stream& stream, std::string_view content, std::size_t sent, After after)
{
  std::string body = json::serialize(completion("test-model", json::string(content)));
  write_all(stream, raw_head(200, "OK", "application/json", 1000, false) + body.substr(0, sent));
  return after;
}

template<class Stream>
After serve_slow_head(Stream& stream, const Request& req, const Segments& seg)
{
  const auto ms = number_arg(seg, 1, 0, 600'000);
  if (!ms) {
    return unknown_mode(stream, req, seg[0]);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(*ms));
  return send(stream, req, echo_reply(req.body()));
}

// The modes that take a status code NNN: the reply `reply_of(NNN)`.
template<class Stream>
After serve_with_status(Stream& stream, const Request& req, const Segments& seg, Reply (*reply_of)(unsigned nnn))
{
  const auto nnn = status_arg(seg);
  if (!nnn) {
    return unknown_mode(
      stream, req, seg[0] + "/" + (seg.size() > 1 ? seg[1] : std::string()) + " (NNN must be 200-599)");
  }
  return send(stream, req, reply_of(*nnn));
}

Reply status_reply(unsigned nnn)
{
  Reply r = error_reply(nnn, "test error " + std::to_string(nnn), "test_type", "test_code");
  if (nnn == 429) {
    r.extra_headers.emplace_back("Retry-After", "7");
  }
  return r;
}

Reply errstr_reply(unsigned nnn)
{
  return json_reply(nnn, json::serialize(json::object{ { "error", "plain error text " + std::to_string(nnn) } }));
}

Reply errmsg_reply(unsigned nnn)
{
  return json_reply(nnn, json::serialize(json::object{ { "message", "message field " + std::to_string(nnn) } }));
}

Reply detail_reply(unsigned nnn)
{
  return json_reply(nnn, json::serialize(json::object{ { "detail", "detail text " + std::to_string(nnn) } }));
}

Reply detaillist_reply(unsigned nnn)
{
  return json_reply(nnn, R"({"detail":[{"loc":["body","model"],"msg":"field required","type":"missing"}]})");
}

Reply numcode_reply(unsigned nnn)
{
  return json_reply(
    nnn,
    json::serialize(json::object{
      { "error", json::object{ { "message", "numeric code " + std::to_string(nnn) }, { "code", nnn } } } }));
}

// --- The streaming modes ---------------------------------------------------

// Streams echo's content: the head, the events `events(w, in)` writes, and
// the last chunk, unless `events` returns what to do instead. A request
// echo rejects gets echo's error.
template<class Stream, class Events>
After serve_echo_stream(Stream& stream,
                        const Request& req,
                        Events events,
                        bool bytewise = false,
                        std::string_view content_type = "text/event-stream")
{
  Reply error;
  const auto in = echo_stream_input(req.body(), error);
  if (!in) {
    return send(stream, req, std::move(error));
  }
  ChunkWriter<Stream> w(stream, bytewise);
  w.head(content_type, req.keep_alive());
  if (const std::optional<After> after = events(w, *in)) {
    return *after;
  }
  return w.last() ? After::keep_alive : After::graceful_close;
}

// The standard stream of echo's content, shaped by `shape`.
template<class Stream>
After serve_shaped(Stream& stream,
                   const Request& req,
                   const StreamShape& shape,
                   bool bytewise = false,
                   std::string_view content_type = "text/event-stream")
{
  return serve_echo_stream(
    stream,
    req,
    [&](ChunkWriter<Stream>& w, const StreamInput& in) -> std::optional<After> {
      write_stream(w, in, shape);
      return std::nullopt;
    },
    bytewise,
    content_type);
}

// The stream `write(w, in)` writes of echo's content.
template<class Stream>
After serve_written(Stream& stream, const Request& req, void (*write)(ChunkWriter<Stream>&, const StreamInput&))
{
  return serve_echo_stream(stream, req, [&](ChunkWriter<Stream>& w, const StreamInput& in) -> std::optional<After> {
    write(w, in);
    return std::nullopt;
  });
}

template<class Stream>
After serve_sse_delay(Stream& stream, const Request& req, const Segments& seg)
{
  const auto ms = number_arg(seg, 1, 0, 600'000);
  if (!ms) {
    return unknown_mode(stream, req, mode_and_args(seg, 1, "MS must be 0-600000"));
  }
  StreamShape shape;
  shape.delay = std::chrono::milliseconds(*ms);
  return serve_shaped(stream, req, shape);
}

// sse-error, sse-malformed, sse-drop, sse-badrecord, sse-stall: the role
// event and two pieces, then the way the mode `seg[0]` breaks off.
template<class Stream>
After serve_broken_stream(Stream& stream, const Request& req, const Segments& seg)
{
  const std::string& mode = seg[0];
  return serve_echo_stream(stream, req, [&](ChunkWriter<Stream>& w, const StreamInput& in) -> std::optional<After> {
    w.chunk(data_event(role_chunk(in.model)));
    const auto pieces = utf8_pieces(in.content, 4);
    for (std::size_t i = 0; i < std::min<std::size_t>(2, pieces.size()); ++i) {
      w.chunk(data_event(content_chunk(in.model, pieces[i])));
    }
    if (mode == "sse-drop") {
      return After::tcp_close;
    }
    if (mode == "sse-badrecord") {
      write_forged_record(stream);
      return After::tcp_close;
    }
    if (mode == "sse-stall") {
      return w.ok() ? After::hold : After::graceful_close;
    }
    w.chunk(data_event(mode == "sse-error" ? R"({"error":{"message":"upstream provider failed","code":502}})"
                                           : R"({"choices":[{"delta":{"content":"x"})"));
    return std::nullopt;
  });
}

// sse-refusal (see the modes).
template<class Stream>
void write_refusal_stream(ChunkWriter<Stream>& w, const StreamInput& in)
{
  w.chunk(data_event(sse_chunk(in.model, json::object{ { "role", "assistant" } })));
  w.chunk(data_event(sse_chunk(in.model, json::object{ { "content", nullptr }, { "refusal", "I can't" } })));
  w.chunk(data_event(sse_chunk(in.model, json::object{ { "refusal", " help with that." } })));
  write_stream_end(w, in);
}

// sse-reasoning (see the modes).
template<class Stream>
void write_reasoning_stream(ChunkWriter<Stream>& w, const StreamInput& in)
{
  w.chunk(data_event(role_chunk(in.model)));
  for (const auto& piece : utf8_pieces("thinking...", 4)) {
    w.chunk(data_event(sse_chunk(in.model, json::object{ { "content", nullptr }, { "reasoning_content", piece } })));
  }
  w.chunk(data_event(sse_chunk(in.model, json::object{ { "reasoning", "more thought" } })));
  for (const auto& piece : utf8_pieces(in.content, 4)) {
    w.chunk(data_event(content_chunk(in.model, piece)));
  }
  write_stream_end(w, in);
}

// sse-bench and sse-big, whose content does not come from the request.
template<class Stream>
After serve_sse_bench(Stream& stream, const Request& req, const Segments& seg)
{
  const auto count = number_arg(seg, 1, 1, 999'999);
  const auto size = number_arg(seg, 2, 8, 1 << 20);
  if (!count || !size) {
    return unknown_mode(stream, req, mode_and_args(seg, 2, "N must be 1-999999, SIZE 8-1048576"));
  }
  ChunkWriter<Stream> w(stream, false);
  w.head("text/event-stream", req.keep_alive());
  write_bench_stream(w, any_stream_input(req.body()), *count, *size);
  return w.last() ? After::keep_alive : After::graceful_close;
}

template<class Stream>
After serve_sse_big(Stream& stream, const Request& req, const Segments& seg)
{
  const auto bytes = number_arg(seg, 1, 0, std::uint64_t{ 1 } << 30);
  if (!bytes) {
    return unknown_mode(stream, req, mode_and_args(seg, 1, "BYTES must be 0-1073741824"));
  }
  ChunkWriter<Stream> w(stream, false);
  w.head("text/event-stream", req.keep_alive());
  write_big_stream(w, any_stream_input(req.body()), *bytes);
  return w.last() ? After::keep_alive : After::graceful_close;
}

// An HTTP date (RFC 9110 IMF-fixdate) `seconds` from now.
std::string http_date_from_now(int seconds)
{
  const std::time_t t = std::time(nullptr) + seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return text;
}

// Whether the request `body` is a JSON object with "stream": true.
bool wants_stream(const std::string& body)
{
  error_code ec;
  const json::value doc = json::parse(body, ec);
  const auto* obj = ec ? nullptr : doc.if_object();
  const auto* flag = obj != nullptr ? obj->if_contains("stream") : nullptr;
  return flag != nullptr && flag->is_bool() && flag->get_bool();
}

// How a flaky request fails: with `reply`, or with a reset (no reply).
struct Failure {
  std::optional<Reply> reply;
};

// The failure flaky's `kind` names; nullopt for an unknown kind.
std::optional<Failure> flaky_failure(std::string_view kind)
{
  auto with = [](Reply r, std::string name, std::string value) {
    r.extra_headers.emplace_back(std::move(name), std::move(value));
    return Failure{ std::move(r) };
  };
  if (kind == "reset") {
    return Failure{};
  }
  if (kind == "429ms") {
    return with(error_reply(429, "flaky failure 429", "requests", "rate_limit_exceeded"), "retry-after-ms", "10");
  }
  if (kind == "429quota") {
    return Failure{ error_reply(429,
                                "You exceeded your current quota, please check your plan "
                                "and billing details.",
                                "insufficient_quota",
                                "insufficient_quota") };
  }
  const Reply unavailable = error_reply(503, "flaky failure 503", "server_error");
  if (kind == "retry-long") {
    return with(unavailable, "Retry-After", "3600");
  }
  if (kind == "retry-date") {
    return with(unavailable, "Retry-After", http_date_from_now(2));
  }
  if (kind == "retry-long-date") {
    return with(unavailable, "Retry-After", http_date_from_now(3600));
  }
  if (kind == "noretry") {
    return with(unavailable, "x-should-retry", "false");
  }
  if (kind == "shouldretry") {
    return with(error_reply(400, "flaky failure 400"), "x-should-retry", "true");
  }
  const auto nnn = status_arg({ "", std::string(kind) });
  if (!nnn) {
    return std::nullopt;
  }
  const std::string message = "flaky failure " + std::to_string(*nnn);
  if (*nnn == 429) {
    return with(error_reply(429, message, "requests", "rate_limit_exceeded"), "Retry-After", "0");
  }
  return Failure{ error_reply(*nnn, message, *nnn >= 500 ? "server_error" : "invalid_request_error") };
}

// The host a request meant for an HTTP proxy names: the host of a CONNECT
// target (host:port) or of an absolute-form target; empty for a request in
// origin form.
std::string proxy_target_host(const Request& req)
{
  std::string_view target = req.target();
  if (req.method() != http::verb::connect) {
    const auto scheme = target.find("://");
    if (scheme == std::string_view::npos || target.find('/') < scheme) {
      return {};
    }
    target.remove_prefix(scheme + 3);
    target = target.substr(0, target.find_first_of("/?#"));
    if (const auto at = target.rfind('@'); at != std::string_view::npos) {
      target.remove_prefix(at + 1);
    }
  }
  if (const auto colon = target.rfind(':');
      colon != std::string_view::npos && target.find(']', colon) == std::string_view::npos) {
    target = target.substr(0, colon);
  }
  return lower(target);
}

// The proxy refusal for `req` (see the top comment); nullopt for a request
// that is not meant for a proxy or names another host in origin form.
std::optional<unsigned> proxy_refusal(const Request& req)
{
  const std::string host = proxy_target_host(req);
  if (host.starts_with("refuse-") && host.ends_with(".test")) {
    const std::string nnn = host.substr(7, host.size() - 7 - 5);
    if (const auto status = status_arg({ "", nnn }); status && *status >= 400) {
      return *status;
    }
  }
  if (req.method() == http::verb::connect) {
    return 405;
  }
  return std::nullopt;
}

// The words of `text` separated by ASCII white space.
std::vector<std::string_view> words(std::string_view text)
{
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
    }
    std::size_t j = i;
    while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j])) == 0) {
      ++j;
    }
    if (j > i) {
      out.push_back(text.substr(i, j - i));
    }
    i = j;
  }
  return out;
}

// The reply of batch/KEY to `body` (see the mode); sets `hangup` when the
// connection is to be closed after it.
Reply batch_reply(const std::string& body, const std::string& key, bool& hangup)
{
  error_code ec;
  const json::value doc = json::parse(body, ec);
  const json::string* content = ec ? nullptr : last_user_content(doc);
  if (content == nullptr) {
    return echo_reply(body);
  }
  std::optional<std::string_view> sleep_ms, status, limit;
  for (const std::string_view word : words(*content)) {
    auto take = [&](std::string_view name, std::optional<std::string_view>& into) {
      if (!into && word.starts_with(name)) {
        into = word.substr(name.size());
      }
    };
    take("sleep=", sleep_ms);
    take("status=", status);
    take("limit=", limit);
    hangup = hangup || word == "hangup";
  }
  auto bad = [](std::string_view what, std::string_view value) {
    return error_reply(400, "batch: bad " + std::string(what) + "=" + std::string(value));
  };
  if (sleep_ms) {
    const auto ms = number_arg({ "", std::string(*sleep_ms) }, 1, 0, 600'000);
    if (!ms) {
      return bad("sleep", *sleep_ms);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(*ms));
  }
  if (limit) {
    const auto seconds = number_arg({ "", std::string(*limit) }, 1, 1, 60);
    if (!seconds) {
      return bad("limit", *limit);
    }
    if (take_limit(key, static_cast<int>(*seconds))) {
      Reply r = error_reply(429, "batch failure 429", "requests", "rate_limit_exceeded");
      r.extra_headers.emplace_back("Retry-After", std::to_string(*seconds));
      return r;
    }
  }
  if (status) {
    const auto nnn = status_arg({ "", std::string(*status) });
    if (!nnn) {
      return bad("status", *status);
    }
    const std::string message = "batch failure " + std::to_string(*nnn);
    if (*nnn == 429) {
      Reply r = error_reply(429, message, "requests", "rate_limit_exceeded");
      r.extra_headers.emplace_back("Retry-After", "0");
      return r;
    }
    return error_reply(*nnn, message, *nnn >= 500 ? "server_error" : "invalid_request_error");
  }
  return Reply{ 200, "application/json", json::serialize(completion(request_model(doc), *content)), {} };
}

// no-close-notify: what follows the reply (see the mode).
void refuse_close_notify(tcp::socket& sock, const std::string&)
{
  wait_peer_close(sock.native_handle(), kHoldSeconds, true);
}

void refuse_close_notify(ssl::stream<tcp::socket>& stream, const std::string& key)
{
  const int fd = stream.next_layer().native_handle();
  // Waits for something from the client; false after kHoldSeconds.
  auto wait_readable = [fd] {
    pollfd p{};
    p.fd = fd;
    p.events = POLLIN | POLLRDHUP;
    int n = 0;
    while ((n = ::poll(&p, 1, kHoldSeconds * 1000)) < 0 && errno == EINTR) {
    }
    return n > 0;
  };
  if (wait_readable()) {
    char byte = 0;
    error_code ec;
    stream.read_some(net::buffer(&byte, 1), ec);
    // The client's close_notify; then its close, with nothing in between.
    if (ec == net::error::eof && wait_readable()) {
      char scratch[256];
      ssize_t n = 0;
      while ((n = ::recv(fd, scratch, sizeof scratch, 0)) < 0 && errno == EINTR) {
      }
      if (n <= 0) {
        count_request(key);
      }
      log(std::string("no-close-notify: close_notify, then ") + (n > 0 ? "more bytes" : "the client's close"));
    }
  }
  wait_peer_close(fd, kHoldSeconds, true);
}

// --- The counting modes ------------------------------------------------------

// The KEY of a counting mode, `seg[1]`; nullopt when the target has none.
std::optional<std::string> key_arg(const Segments& seg)
{
  return seg.size() < 2 ? std::nullopt : std::optional<std::string>(seg[1]);
}

template<class Stream>
After serve_attempts(Stream& stream, const Request& req, const Segments& seg)
{
  const auto key = key_arg(seg);
  if (!key) {
    return unknown_mode(stream, req, "attempts (KEY missing)");
  }
  return send(stream, req, json_reply(200, json::serialize(json::object{ { "attempts", counted_requests(*key) } })));
}

template<class Stream>
After serve_stats(Stream& stream, const Request& req, const Segments& seg)
{
  const auto key = key_arg(seg);
  if (!key) {
    return unknown_mode(stream, req, "stats (KEY missing)");
  }
  const BatchStats stats = batch_stats(*key);
  return send(stream,
              req,
              json_reply(200,
                         json::serialize(json::object{ { "requests", counted_requests(*key) },
                                                       { "connections", stats.connections },
                                                       { "early", stats.early } })));
}

template<class Stream>
After serve_batch(Stream& stream, const Request& req, const Segments& seg)
{
  const auto key = key_arg(seg);
  if (!key) {
    return unknown_mode(stream, req, "batch (KEY missing)");
  }
  count_batch_request(*key);
  bool hangup = false;
  const After after = send(stream, req, batch_reply(req.body(), *key, hangup));
  return after == After::keep_alive && hangup ? After::graceful_close : after;
}

template<class Stream>
After serve_no_close_notify(Stream& stream, const Request& req, const Segments& seg)
{
  const auto key = key_arg(seg);
  if (!key) {
    return unknown_mode(stream, req, "no-close-notify (KEY missing)");
  }
  if (const After after = send(stream, req, echo_reply(req.body())); after != After::keep_alive) {
    return after;
  }
  refuse_close_notify(stream, *key);
  return After::done;
}

template<class Stream>
After serve_counted(Stream& stream, const Request& req, const Segments& seg)
{
  if (seg.size() < 3) {
    return unknown_mode(stream, req, "counted (KEY or MODE missing)");
  }
  count_request(seg[1]);
  return serve_mode(stream, req, Segments(seg.begin() + 2, seg.end()));
}

// The failures a comma-separated list of flaky's kinds names, in order;
// nullopt when one kind is unknown.
std::optional<std::vector<Failure>> flaky_failures(std::string_view kinds)
{
  std::vector<Failure> failures;
  for (std::size_t start = 0;;) {
    const std::size_t comma = std::min(kinds.find(',', start), kinds.size());
    const auto failure = flaky_failure(kinds.substr(start, comma - start));
    if (!failure) {
      return std::nullopt;
    }
    failures.push_back(*failure);
    if (comma == kinds.size()) {
      return failures;
    }
    start = comma + 1;
  }
}

template<class Stream>
After serve_flaky(Stream& stream, const Request& req, const Segments& seg)
{
  const auto n = number_arg(seg, 2, 0, 1'000'000);
  const auto failures = seg.size() >= 4 ? flaky_failures(seg[3]) : std::nullopt;
  if (!n || !failures) {
    return unknown_mode(stream, req, mode_and_args(seg, 3, "N must be 0-1000000, KIND a status or a named kind"));
  }
  const auto count = count_request(seg[1]);
  if (count > *n) {
    return serve_mode(stream, req, { wants_stream(req.body()) ? "sse" : "echo" });
  }
  const Failure& failure = (*failures)[std::min<std::size_t>(count - 1, failures->size() - 1)];
  if (!failure.reply) {
    return After::reset;
  }
  return send(stream, req, *failure.reply);
}

// --- The Responses API ---------------------------------------------------------

// Whether the path of `target` (its query aside) ends in /responses.
bool is_responses_target(std::string_view target)
{
  const auto seg = segments(target);
  return !seg.empty() && seg.back() == "responses";
}

// The text a Responses request asks to be echoed: `input` when it is a
// string, else the input_text parts of its last user message item.
std::optional<std::string> responses_input_text(const json::value& doc)
{
  const auto* obj = doc.if_object();
  const auto* input = obj != nullptr ? obj->if_contains("input") : nullptr;
  if (input == nullptr) {
    return std::nullopt;
  }
  if (input->is_string()) {
    return std::string(input->get_string());
  }
  std::optional<std::string> text;
  for (const auto& item : input->is_array() ? input->get_array() : json::array{}) {
    const auto* io = item.if_object();
    const auto* role = io != nullptr ? io->if_contains("role") : nullptr;
    if (role == nullptr || !role->is_string() || role->get_string() != "user") {
      continue;
    }
    const auto* content = io->if_contains("content");
    if (content != nullptr && content->is_string()) {
      text = std::string(content->get_string());
      continue;
    }
    text = std::string();
    for (const auto& part : content != nullptr && content->is_array() ? content->get_array() : json::array{}) {
      const auto* po = part.if_object();
      if (po != nullptr && po->if_contains("type") && po->at("type") == "input_text" && po->at("text").is_string()) {
        *text += po->at("text").get_string();
      }
    }
  }
  return text;
}

json::object responses_message_item(std::string_view text)
{
  json::object part{ { "type", "output_text" }, { "text", text }, { "annotations", json::array{} } };
  return json::object{ { "type", "message" },
                       { "id", "msg_test" },
                       { "status", "completed" },
                       { "role", "assistant" },
                       { "content", json::array{ std::move(part) } } };
}

json::object responses_reasoning_item()
{
  return json::object{
    { "type", "reasoning" },
    { "id", "rs_test" },
    { "summary", json::array{ json::object{ { "type", "summary_text" }, { "text", "thinking..." } } } },
  };
}

// The response object of the header comment, with `output` and `status`.
json::object response_object(const json::value& model, std::string_view status, json::array output)
{
  json::object usage{ { "input_tokens", 5 },
                      { "input_tokens_details", json::object{ { "cached_tokens", 2 } } },
                      { "output_tokens", 7 },
                      { "output_tokens_details", json::object{ { "reasoning_tokens", 3 } } },
                      { "total_tokens", 12 } };
  json::object r{ { "id", "resp_test" }, { "object", "response" }, { "created_at", 1700000000 },
                  { "status", status },  { "model", model },       { "output", std::move(output) } };
  r["usage"] = std::move(usage);
  return r;
}

// What a resp-* mode answers: the mode, the request's model and text, and
// whether to stream.
struct ResponsesInput {
  std::string mode;
  json::value model = "test-model";
  std::string text;
  bool stream = false;
};

// The whole (not streamed) reply of a resp-* mode.
Reply responses_whole_reply(const ResponsesInput& in)
{
  json::array output;
  if (in.mode == "resp-reasoning") {
    output.push_back(responses_reasoning_item());
  }
  std::string status = "completed";
  if (in.mode == "resp-failed") {
    status = "failed";
  } else {
    output.push_back(responses_message_item(in.text));
  }
  json::object r = response_object(in.model, status, std::move(output));
  if (in.mode == "resp-incomplete") {
    r["status"] = "incomplete";
    r["incomplete_details"] = json::object{ { "reason", "max_output_tokens" } };
  } else if (in.mode == "resp-failed") {
    r["error"] = json::object{ { "code", "server_error" }, { "message", "the model failed" } };
  }
  return Reply{ 200, "application/json", json::serialize(r), {} };
}

// Writes Responses events, numbered from 0.
template<class Stream>
class ResponsesEvents {
public:
  explicit ResponsesEvents(ChunkWriter<Stream>& w)
    : w_(w)
  {
  }

  void send(std::string_view type, json::object fields = {})
  {
    fields["type"] = type;
    fields["sequence_number"] = seq_++;
    w_.chunk("event: " + std::string(type) + "\ndata: " + json::serialize(fields) + "\n\n");
  }

  void delta(std::string_view type, std::string_view piece)
  {
    send(type,
         json::object{ { "item_id", "msg_test" }, { "output_index", 0 }, { "content_index", 0 }, { "delta", piece } });
  }

private:
  ChunkWriter<Stream>& w_;
  std::int64_t seq_ = 0;
};

// The standard Responses stream, shaped by the resp-* mode of `in`.
template<class Stream>
void write_responses_stream(ChunkWriter<Stream>& w, const ResponsesInput& in)
{
  ResponsesEvents<Stream> e(w);
  e.send("response.created", json::object{ { "response", response_object(in.model, "in_progress", {}) } });
  e.send("response.in_progress", json::object{ { "response", response_object(in.model, "in_progress", {}) } });
  if (in.mode == "resp-reasoning") {
    e.send("response.output_item.added", json::object{ { "output_index", 0 }, { "item", responses_reasoning_item() } });
    for (const auto& piece : utf8_pieces("thinking...", 4)) {
      e.delta("response.reasoning_summary_text.delta", piece);
    }
    e.send("response.output_item.done", json::object{ { "output_index", 0 }, { "item", responses_reasoning_item() } });
  }
  e.send("response.output_item.added", json::object{ { "output_index", 0 }, { "item", responses_message_item("") } });
  e.send("response.content_part.added", json::object{ { "output_index", 0 }, { "content_index", 0 } });
  const bool broken = in.mode == "resp-failed" || in.mode == "resp-error";
  const auto pieces = utf8_pieces(in.text, 4);
  for (std::size_t i = 0; i < pieces.size() && (!broken || i < 2) && w.ok(); ++i) {
    e.delta("response.output_text.delta", pieces[i]);
  }
  if (in.mode == "resp-error") {
    e.send("error",
           json::object{ { "code", "rate_limit_exceeded" }, { "message", "slow down" }, { "param", nullptr } });
    return;
  }
  if (in.mode == "resp-failed") {
    json::object r = response_object(in.model, "failed", {});
    r["error"] = json::object{ { "code", "server_error" }, { "message", "the model failed" } };
    e.send("response.failed", json::object{ { "response", std::move(r) } });
    return;
  }
  e.send("response.output_text.done", json::object{ { "output_index", 0 }, { "text", in.text } });
  e.send("response.content_part.done", json::object{ { "output_index", 0 }, { "content_index", 0 } });
  e.send("response.output_item.done",
         json::object{ { "output_index", 0 }, { "item", responses_message_item(in.text) } });
  if (in.mode == "resp-noend") {
    return;
  }
  const json::value whole = json::parse(responses_whole_reply(in).body);
  e.send(in.mode == "resp-incomplete" ? "response.incomplete" : "response.completed",
         json::object{ { "response", whole } });
}

// resp-echo, resp-sse, resp-reasoning, resp-incomplete, resp-failed,
// resp-error, resp-noend, resp-only (see the modes).
template<class Stream>
After serve_responses(Stream& stream, const Request& req, const Segments& seg)
{
  ResponsesInput in;
  in.mode = seg[0];
  if (in.mode == "resp-only" && !is_responses_target(req.target())) {
    return send(
      stream, req, error_reply(404, "This model is only supported in v1/responses and not in v1/chat/completions."));
  }
  error_code ec;
  const json::value doc = json::parse(req.body(), ec);
  const auto text = ec ? std::nullopt : responses_input_text(doc);
  if (!text) {
    return send(stream, req, error_reply(400, "no input text"));
  }
  in.model = request_model(doc);
  in.text = *text;
  in.stream = in.mode == "resp-sse" || wants_stream(req.body());
  if (!in.stream) {
    return send(stream, req, responses_whole_reply(in));
  }
  ChunkWriter<Stream> w(stream, false);
  w.head("text/event-stream", req.keep_alive());
  write_responses_stream(w, in);
  return w.last() ? After::keep_alive : After::graceful_close;
}

// resp-sse-bench: sse-bench's pieces as Responses events.
template<class Stream>
After serve_responses_bench(Stream& stream, const Request& req, const Segments& seg)
{
  const auto count = number_arg(seg, 1, 1, 999'999);
  const auto size = number_arg(seg, 2, 8, 1 << 20);
  if (!count || !size) {
    return unknown_mode(stream, req, mode_and_args(seg, 2, "N must be 1-999999, SIZE 8-1048576"));
  }
  ChunkWriter<Stream> w(stream, false);
  w.head("text/event-stream", req.keep_alive());
  ResponsesEvents<Stream> e(w);
  const json::value model = any_stream_input(req.body()).model;
  e.send("response.created", json::object{ { "response", response_object(model, "in_progress", {}) } });
  std::string stamps;
  for (std::size_t seq = 0; seq < *count && w.ok(); ++seq) {
    char number[32];
    std::snprintf(number, sizeof number, "#%06zu:", seq);
    std::string piece(number);
    piece.resize(*size, 'x');
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    stamps += std::to_string(seq) + " " + std::to_string(monotonic_ns()) + "\n";
    e.delta("response.output_text.delta", piece);
  }
  e.send("response.completed", json::object{ { "response", response_object(model, "completed", {}) } });
  record_timestamps(stamps);
  return w.last() ? After::keep_alive : After::graceful_close;
}

// --- The Batch API ---------------------------------------------------------------

// A file of batchapi/KEY: uploaded, or a batch's output or error file.
struct ApiFile {
  std::string filename;
  std::string purpose;
  std::int64_t created_at = 0;
  std::string bytes;
};

// What a batch's lines came to: the output and error files' JSONL and the
// request counts they make.
struct BatchResults {
  std::string output;
  std::string errors;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
};

// A batch of batchapi/KEY and where it stands.
struct ApiBatch {
  std::string id;
  std::string scenario;
  std::string request; // the create body as received
  std::string endpoint;
  std::string input_file_id;
  json::value metadata;
  std::int64_t created_at = 0;
  std::string status = "validating";
  json::object times; // "STATUS_at" of each status entered after validating
  unsigned polls = 0; // polls answered in_progress after the first
  std::uint64_t total = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
  json::value output_file_id = nullptr;
  json::value error_file_id = nullptr;
  json::value errors = nullptr;
  std::optional<BatchResults> pending; // made when finalizing, filed when completed
};

// Everything batchapi/KEY keeps for one KEY.
struct ApiState {
  std::uint64_t uploads = 0;
  std::uint64_t files_made = 0;   // the last N of file-N
  std::uint64_t batches_made = 0; // of batch_N
  std::uint64_t lines_made = 0;   // of batch_req_N and req_N
  std::map<std::string, ApiFile, std::less<>> files;
  std::vector<ApiBatch> batches; // oldest first
  json::array seen;              // each request's method, target and headers, oldest first
};

// The state of batchapi per KEY, shared by all connections.
std::mutex g_api_mutex;
std::map<std::string, ApiState, std::less<>> g_api;

std::int64_t now_seconds()
{
  return static_cast<std::int64_t>(std::time(nullptr));
}

std::string_view trim(std::string_view s)
{
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The parameter `name` of a header value "type; a=b; c=\"d\"" (case-
// insensitive name, quotes removed); nullopt if absent.
std::optional<std::string> header_parameter(std::string_view value, std::string_view name)
{
  std::size_t at = value.find(';');
  while (at != std::string_view::npos) {
    const std::size_t next = value.find(';', at + 1);
    const std::string_view param = trim(value.substr(at + 1, next == std::string_view::npos ? next : next - at - 1));
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && lower(trim(param.substr(0, eq))) == name) {
      std::string_view v = trim(param.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        v = v.substr(1, v.size() - 2);
      }
      return std::string(v);
    }
    at = next;
  }
  return std::nullopt;
}

// One part of a multipart/form-data body.
struct FormPart {
  std::optional<std::string> name;
  std::optional<std::string> filename;
  std::string_view data;
};

// The part whose headers are `head` (CRLF-separated) and whose content is `data`.
FormPart form_part(std::string_view head, std::string_view data)
{
  FormPart part{ std::nullopt, std::nullopt, data };
  std::size_t at = 0;
  while (at < head.size()) {
    const std::size_t end = std::min(head.find("\r\n", at), head.size());
    const std::string_view line = head.substr(at, end - at);
    if (lower(line).starts_with("content-disposition:")) {
      part.name = header_parameter(line, "name");
      part.filename = header_parameter(line, "filename");
    }
    at = end + 2;
  }
  return part;
}

// The parts of the multipart/form-data `body` with `boundary`; nullopt, with
// `problem` saying why, when it is malformed.
std::optional<std::vector<FormPart>> form_parts(std::string_view body, std::string_view boundary, std::string& problem)
{
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next = "\r\n" + delimiter;
  std::size_t at = body.find(delimiter);
  if (at == std::string_view::npos) {
    problem = "multipart body without its boundary";
    return std::nullopt;
  }
  std::vector<FormPart> parts;
  for (;;) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") {
      return parts;
    }
    if (body.substr(at, 2) != "\r\n") {
      problem = "multipart boundary line not ended by CRLF";
      return std::nullopt;
    }
    const std::size_t head_end = body.find("\r\n\r\n", at);
    const std::size_t end = head_end == std::string_view::npos ? head_end : body.find(next, head_end + 4);
    if (end == std::string_view::npos) {
      problem = head_end == std::string_view::npos ? "multipart part without the blank line after its headers"
                                                   : "multipart body without its closing boundary";
      return std::nullopt;
    }
    parts.push_back(form_part(body.substr(at + 2, head_end - at), body.substr(head_end + 4, end - head_end - 4)));
    at = end + 2;
  }
}

json::object file_object(std::string_view id, const ApiFile& f)
{
  return json::object{ { "id", id },
                       { "object", "file" },
                       { "bytes", f.bytes.size() },
                       { "created_at", f.created_at },
                       { "filename", f.filename },
                       { "purpose", f.purpose } };
}

// POST .../files; nullopt to reset the connection (reset-upload).
std::optional<Reply> upload_file(ApiState& st, const std::string& scenario, const Request& req)
{
  if (++st.uploads == 1 && scenario == "reset-upload") {
    return std::nullopt;
  }
  const std::string_view content_type = req[http::field::content_type];
  const auto boundary = header_parameter(content_type, "boundary");
  if (!lower(content_type).starts_with("multipart/form-data") || !boundary || boundary->empty()) {
    return error_reply(400, "Content-Type is not multipart/form-data with a boundary");
  }
  std::string problem;
  const auto parts = form_parts(req.body(), *boundary, problem);
  if (!parts) {
    return error_reply(400, problem);
  }
  const FormPart* purpose = nullptr;
  const FormPart* file = nullptr;
  for (const FormPart& p : *parts) {
    purpose = p.name == "purpose" ? &p : purpose;
    file = p.name == "file" ? &p : file;
  }
  if (purpose == nullptr || purpose->data != "batch") {
    return error_reply(400, purpose == nullptr ? "missing the purpose field" : "purpose must be \"batch\"");
  }
  if (file == nullptr || !file->filename) {
    return error_reply(400, file == nullptr ? "missing the file field" : "the file field has no filename");
  }
  const std::string id = "file-" + std::to_string(++st.files_made);
  const ApiFile& f = st.files[id] = ApiFile{ *file->filename, "batch", now_seconds(), std::string(file->data) };
  return json_reply(200, json::serialize(file_object(id, f)));
}

// GET .../files/ID/content.
Reply file_content(const ApiState& st, const std::string& id)
{
  const auto it = st.files.find(id);
  if (it == st.files.end()) {
    return error_reply(404, "No such File object: " + id);
  }
  return Reply{ 200, "application/octet-stream", it->second.bytes, {} };
}

// A non-blank line of an input file; `number` counts from 1.
struct InputLine {
  std::size_t number;
  std::string_view text;
};

std::vector<InputLine> input_lines(std::string_view bytes)
{
  std::vector<InputLine> lines;
  std::size_t number = 0;
  for (std::size_t at = 0; at < bytes.size();) {
    const std::size_t end = std::min(bytes.find('\n', at), bytes.size());
    ++number;
    if (const std::string_view text = trim(bytes.substr(at, end - at)); !text.empty()) {
      lines.push_back({ number, text });
    }
    at = end + 1;
  }
  return lines;
}

json::object batch_object(const ApiBatch& b)
{
  json::object o{ { "id", b.id },
                  { "object", "batch" },
                  { "endpoint", b.endpoint },
                  { "errors", b.errors },
                  { "input_file_id", b.input_file_id },
                  { "completion_window", "24h" },
                  { "status", b.status },
                  { "output_file_id", b.output_file_id },
                  { "error_file_id", b.error_file_id },
                  { "created_at", b.created_at },
                  { "expires_at", b.created_at + 86400 } };
  for (const auto& [name, time] : b.times) {
    o[name] = time;
  }
  o["request_counts"] = json::object{ { "total", b.total }, { "completed", b.completed }, { "failed", b.failed } };
  o["metadata"] = b.metadata;
  return o;
}

// A string member of `v`, if it is an object with one.
std::optional<std::string> string_member(const json::value& v, std::string_view name)
{
  const auto* obj = v.if_object();
  const auto* member = obj != nullptr ? obj->if_contains(name) : nullptr;
  return member != nullptr && member->is_string() ? std::optional<std::string>(member->get_string()) : std::nullopt;
}

// POST .../batches.
Reply create_batch(ApiState& st, const std::string& scenario, const std::string& body)
{
  error_code ec;
  const json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) {
    return error_reply(400, "request body is not a JSON object");
  }
  const auto input = string_member(doc, "input_file_id");
  const auto endpoint = string_member(doc, "endpoint");
  const json::value* metadata = doc.get_object().if_contains("metadata");
  if (!input || st.files.find(*input) == st.files.end()) {
    return error_reply(400, input ? "No such File object: " + *input : "missing input_file_id");
  }
  if (endpoint != "/v1/chat/completions" && endpoint != "/v1/responses") {
    return error_reply(400, "endpoint must be /v1/chat/completions or /v1/responses");
  }
  if (string_member(doc, "completion_window") != "24h") {
    return error_reply(400, "completion_window must be \"24h\"");
  }
  if (metadata != nullptr && !metadata->is_object() && !metadata->is_null()) {
    return error_reply(400, "metadata must be an object");
  }
  ApiBatch b;
  b.id = "batch_" + std::to_string(++st.batches_made);
  b.scenario = scenario;
  b.request = body;
  b.endpoint = *endpoint;
  b.input_file_id = *input;
  b.metadata = metadata != nullptr ? *metadata : json::value(nullptr);
  b.created_at = now_seconds();
  st.batches.push_back(std::move(b));
  return json_reply(200, json::serialize(batch_object(st.batches.back())));
}

// The problems of a batch's input lines, as a batch's "errors"; nullopt if none.
std::optional<json::value> validation_errors(const ApiState& st, const ApiBatch& b)
{
  json::array data;
  auto problem = [&](std::string_view code, json::value line, std::string_view message) {
    data.push_back(
      json::object{ { "code", code }, { "line", std::move(line) }, { "message", message }, { "param", nullptr } });
  };
  const auto lines = input_lines(st.files.at(b.input_file_id).bytes);
  if (b.scenario == "failed") {
    problem("invalid_json", 2, "This line is not parseable as valid JSON.");
  } else if (lines.empty()) {
    problem("empty_file", nullptr, "The input file is empty.");
  }
  for (std::size_t i = 0; i < lines.size() && b.scenario != "failed"; ++i) {
    error_code ec;
    const json::value line = json::parse(lines[i].text, ec);
    const auto* obj = ec ? nullptr : line.if_object();
    if (obj == nullptr) {
      problem("invalid_json", lines[i].number, "This line is not parseable as valid JSON.");
    } else if (!string_member(line, "custom_id") || !obj->if_contains("body") || !obj->at("body").is_object()) {
      problem("invalid_request", lines[i].number, "This line has no custom_id string or no body object.");
    } else if (string_member(line, "url") != b.endpoint) {
      problem("invalid_url", lines[i].number, "The url of this line is not the batch's endpoint.");
    }
  }
  if (data.empty()) {
    return std::nullopt;
  }
  return json::object{ { "object", "list" }, { "data", std::move(data) } };
}

// The text of a request line's body that echo or resp-echo would answer.
std::optional<std::string> line_user_text(const std::string& endpoint, const json::value& body)
{
  if (endpoint == "/v1/responses") {
    return responses_input_text(body);
  }
  const json::string* content = last_user_content(body);
  return content != nullptr ? std::optional<std::string>(*content) : std::nullopt;
}

// What echo (chat) or resp-echo (responses) answers to a request line's body.
std::pair<unsigned, json::value> line_answer(const std::string& endpoint, const json::value& body)
{
  Reply r = echo_reply(json::serialize(body));
  if (endpoint == "/v1/responses") {
    const auto text = responses_input_text(body);
    r = text ? responses_whole_reply(ResponsesInput{ "resp-echo", request_model(body), *text, false })
             : error_reply(400, "no input text");
  }
  return { r.status, json::parse(r.body) };
}

// The order in which a batch's output lists its n lines: a fixed shuffle.
std::vector<std::size_t> shuffled(std::size_t n)
{
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) {
    order[i] = i;
  }
  auto key = [](std::size_t i) { return (i * 2654435761U + 12345U) % 4294967291U; };
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  return order;
}

// The results of a batch's lines: the first `answered` in input order are
// answered, the others get the error `unanswered_code` (see the modes).
BatchResults batch_results(ApiState& st, const ApiBatch& b, std::size_t answered, std::string_view unanswered_code)
{
  const auto lines = input_lines(st.files.at(b.input_file_id).bytes);
  BatchResults r;
  for (const std::size_t i : shuffled(lines.size())) {
    error_code ec;
    const json::value line = json::parse(lines[i].text, ec);
    const json::value* body = ec || !line.is_object() ? nullptr : line.get_object().if_contains("body");
    const std::string n = std::to_string(++st.lines_made);
    const auto custom_id = string_member(line, "custom_id");
    json::object rec{ { "id", "batch_req_" + n }, { "custom_id", custom_id ? json::value(*custom_id) : nullptr } };
    std::pair<unsigned, json::value> answer{ 400,
                                             json::parse(openai_error("bad line", "invalid_request_error", nullptr)) };
    const auto text = body != nullptr ? line_user_text(b.endpoint, *body) : std::nullopt;
    if (i >= answered) {
      rec["response"] = nullptr;
      rec["error"] = json::object{ { "code", unanswered_code },
                                   { "message",
                                     unanswered_code == "batch_expired"
                                       ? "This request could not be executed before the completion window expired."
                                       : "This request was cancelled before it could be executed." } };
      r.errors += json::serialize(rec) + "\n";
      ++r.failed;
      continue;
    }
    if (body != nullptr && !(b.scenario == "errors" && text && text->find("FAIL") != std::string::npos)) {
      answer = line_answer(b.endpoint, *body);
    }
    rec["response"] = json::object{ { "status_code", answer.first },
                                    { "request_id", "req_" + n },
                                    { "body", std::move(answer.second) } };
    rec["error"] = nullptr;
    (answer.first == 200 ? r.output : r.errors) += json::serialize(rec) + "\n";
    ++(answer.first == 200 ? r.completed : r.failed);
  }
  return r;
}

// Ends batch `b` with `status` and the results `r`: its counts and files.
void file_results(ApiState& st, ApiBatch& b, std::string_view status, BatchResults r)
{
  b.completed = r.completed;
  b.failed = r.failed;
  b.total = r.completed + r.failed;
  auto file = [&](std::string bytes, std::string_view suffix) -> json::value {
    if (bytes.empty()) {
      return nullptr;
    }
    const std::string id = "file-" + std::to_string(++st.files_made);
    st.files[id] = ApiFile{ b.id + std::string(suffix), "batch_output", now_seconds(), std::move(bytes) };
    return json::value(id);
  };
  if (b.scenario == "garbled") {
    r.output += "<html>502 Bad Gateway</html>\n"; // a proxy's page where a result should be
  }
  b.output_file_id = file(std::move(r.output), "_output.jsonl");
  b.error_file_id = file(std::move(r.errors), "_error.jsonl");
  b.status = status;
  b.times[std::string(status) + "_at"] = now_seconds();
}

void enter(ApiBatch& b, std::string_view status)
{
  b.status = status;
  b.times[std::string(status) + "_at"] = now_seconds();
}

// Moves batch `b` one step on, as a poll does (see the modes).
void advance(ApiState& st, ApiBatch& b)
{
  const auto input = st.files.find(b.input_file_id);
  if (input == st.files.end()) {
    return; // deleted (DELETE files/ID): the batch stays as it is
  }
  const std::size_t lines = input_lines(input->second.bytes).size();
  if (b.status == "validating") {
    if (auto errors = validation_errors(st, b)) {
      b.errors = std::move(*errors);
      enter(b, "failed");
    } else {
      b.total = lines;
      enter(b, "in_progress");
    }
  } else if (b.status == "cancelling") {
    file_results(st, b, "cancelled", batch_results(st, b, lines / 2, "batch_cancelled"));
  } else if (b.status == "in_progress") {
    ++b.polls;
    if (b.scenario == "expire") {
      file_results(st, b, "expired", batch_results(st, b, lines / 2, "batch_expired"));
    } else if (b.scenario == "slow" && b.polls < 5) {
      b.completed = b.total * b.polls / 5;
    } else {
      b.pending = batch_results(st, b, lines, "");
      b.completed = b.pending->completed;
      b.failed = b.pending->failed;
      enter(b, "finalizing");
    }
  } else if (b.status == "finalizing") {
    file_results(st, b, "completed", std::move(*b.pending));
    b.pending.reset();
  }
}

// POST .../batches/ID/cancel.
Reply cancel_batch(ApiBatch& b)
{
  if (b.status == "validating" || b.status == "in_progress" || b.status == "finalizing") {
    b.pending.reset();
    enter(b, "cancelling");
  } else if (b.status != "cancelling") {
    return error_reply(400, "Cannot cancel a batch with status " + b.status + ".");
  }
  return json_reply(200, json::serialize(batch_object(b)));
}

// The value of the query parameter `name` in `target`, if given.
std::optional<std::string> query_parameter(std::string_view target, std::string_view name)
{
  const std::size_t q = target.find('?');
  std::size_t at = q == std::string_view::npos ? target.size() : q + 1;
  while (at < target.size()) {
    const std::size_t end = std::min(target.find('&', at), target.size());
    const std::string_view param = target.substr(at, end - at);
    if (param.starts_with(name) && param.substr(name.size()).starts_with("=")) {
      return std::string(param.substr(name.size() + 1));
    }
    at = end + 1;
  }
  return std::nullopt;
}

// GET .../batches?limit=N.
Reply list_batches(const ApiState& st, std::string_view target)
{
  const auto limit_text = query_parameter(target, "limit");
  const auto limit = limit_text ? number_arg({ "", *limit_text }, 1, 1, 100) : std::optional<std::uint64_t>(20);
  if (!limit) {
    return error_reply(400, "limit must be 1-100");
  }
  json::array data;
  for (auto it = st.batches.rbegin(); it != st.batches.rend() && data.size() < *limit; ++it) {
    data.push_back(batch_object(*it));
  }
  json::value first = data.empty() ? json::value(nullptr) : data.front().at("id");
  json::value last = data.empty() ? json::value(nullptr) : data.back().at("id");
  return json_reply(200,
                    json::serialize(json::object{ { "object", "list" },
                                                  { "data", std::move(data) },
                                                  { "first_id", std::move(first) },
                                                  { "last_id", std::move(last) },
                                                  { "has_more", st.batches.size() > *limit } }));
}

// The reply of batchapi/KEY/SCENARIO to `req`, whose route (the segments
// from "files" or "batches" on) is `route`; nullopt to reset the connection.
std::optional<Reply> batchapi_reply(const Request& req,
                                    const std::string& key,
                                    const std::string& scenario,
                                    const Segments& route)
{
  std::lock_guard lock(g_api_mutex);
  ApiState& st = g_api[key];
  const bool get = req.method() == http::verb::get;
  const bool post = req.method() == http::verb::post;
  const std::size_t n = route.size();
  const std::string what = n == 0 ? "" : route[0];
  if (what == "requests" && n == 1 && get) {
    return json_reply(200, json::serialize(json::object{ { "object", "list" }, { "data", st.seen } }));
  }
  st.seen.push_back(json::object{ { "method", std::string_view(req.method_string()) },
                                  { "target", std::string_view(req.target()) },
                                  { "headers", header_object(req) } });
  if (what == "files" && n == 1 && post) {
    return upload_file(st, scenario, req);
  }
  if (what == "files" && n == 3 && route[2] == "content" && get) {
    return file_content(st, route[1]);
  }
  if (what == "files" && n == 2 && req.method() == http::verb::delete_) {
    if (st.files.erase(route[1]) == 0) {
      return error_reply(404, "No such File object: " + route[1]);
    }
    return json_reply(200,
                      json::serialize(json::object{ { "id", route[1] }, { "object", "file" }, { "deleted", true } }));
  }
  if (what == "batches" && n == 1) {
    return post ? create_batch(st, scenario, req.body()) : list_batches(st, req.target());
  }
  const bool batch_route = what == "batches" && ((n == 2 && get) || (n == 3 && get && route[2] == "request") ||
                                                 (n == 3 && post && route[2] == "cancel"));
  if (!batch_route) {
    return error_reply(404,
                       "unknown batchapi route: " + std::string(req.method_string()) + " " + std::string(req.target()));
  }
  const auto it =
    std::find_if(st.batches.begin(), st.batches.end(), [&](const ApiBatch& b) { return b.id == route[1]; });
  if (it == st.batches.end()) {
    return error_reply(404, "No batch found with id '" + route[1] + "'.");
  }
  if (n == 2) {
    const bool held = scenario == "hold" && it->status == "in_progress";
    if (!held) {
      advance(st, *it);
    }
    // Polled again at once: the tests need not wait gptq's 5 s and more.
    // A held batch is polled once a second, not in a busy loop.
    Reply reply = json_reply(200, json::serialize(batch_object(*it)));
    reply.extra_headers.emplace_back("Retry-After", held ? "1" : "0");
    return reply;
  }
  return route[2] == "cancel" ? cancel_batch(*it) : json_reply(200, it->request);
}

template<class Stream>
After serve_batchapi(Stream& stream, const Request& req, const Segments& seg)
{
  static const std::vector<std::string> scenarios{ "ok",   "errors",       "expire", "failed",
                                                   "slow", "reset-upload", "hold",   "garbled" };
  if (seg.size() < 3 || std::find(scenarios.begin(), scenarios.end(), seg[2]) == scenarios.end()) {
    return unknown_mode(
      stream, req, mode_and_args(seg, 2, "SCENARIO must be ok, errors, expire, failed, slow, reset-upload or hold"));
  }
  auto start = std::find_if(
    seg.begin() + 3, seg.end(), [](const std::string& s) { return s == "files" || s == "batches" || s == "requests"; });
  if (start == seg.end() || *start != "requests") {
    count_request(seg[1]);
  }
  std::optional<Reply> reply = batchapi_reply(req, seg[1], seg[2], Segments(start, seg.end()));
  if (!reply) {
    return After::reset;
  }
  return send(stream, req, std::move(*reply));
}

// --- The table of modes --------------------------------------------------------

// One test mode: the first segment of a target names it; the header comment
// says what each does.
template<class Stream>
struct Mode {
  std::string_view name;
  std::string_view args; // the segments it takes after its name, as the header comment writes them
  After (*serve)(Stream& stream, const Request& req, const Segments& seg); // seg[0] is `name`
};

// Every mode, which serve_mode dispatches on and --help lists. One entry a
// mode, so the function is as long as there are modes.
template<class Stream>
const std::vector<Mode<Stream>>& modes()
{
  using S = Stream;
  using Seg = const Segments&;
  static const std::vector<Mode<Stream>> table{
    { "echo", "", serve_echo<S> },
    { "request", "", serve_request<S> },
    { "chunked", "", serve_chunked<S> },
    { "close", "", [](S& s, const Request& r, Seg) { return serve_close(s, r, After::graceful_close); } },
    { "close-noshutdown", "", [](S& s, const Request& r, Seg) { return serve_close(s, r, After::tcp_close); } },
    { "status", "/NNN", [](S& s, const Request& r, Seg g) { return serve_with_status(s, r, g, status_reply); } },
    { "errstr", "/NNN", [](S& s, const Request& r, Seg g) { return serve_with_status(s, r, g, errstr_reply); } },
    { "errmsg", "/NNN", [](S& s, const Request& r, Seg g) { return serve_with_status(s, r, g, errmsg_reply); } },
    { "detail", "/NNN", [](S& s, const Request& r, Seg g) { return serve_with_status(s, r, g, detail_reply); } },
    { "detaillist",
      "/NNN",
      [](S& s, const Request& r, Seg g) { return serve_with_status(s, r, g, detaillist_reply); } },
    { "numcode", "/NNN", [](S& s, const Request& r, Seg g) { return serve_with_status(s, r, g, numcode_reply); } },
    { "context-full",
      "",
      [](S& s, const Request& r, Seg) {
        return send(s,
                    r,
                    error_reply(400,
                                "This model's maximum context length is 128000 tokens. However, your messages "
                                "resulted in 131072 tokens. Please reduce the length of the messages.",
                                "invalid_request_error",
                                "context_length_exceeded"));
      } },
    { "html502",
      "",
      [](S& s, const Request& r, Seg) {
        return send(s, r, Reply{ 502, "text/html", kHtml502, {} });
      } },
    { "leakkey", "", serve_leakkey<S> },
    { "malformed",
      "",
      [](S& s, const Request& r, Seg) {
        return send(s, r, json_reply(200, R"({"choices":[{"message":{"content":"hi")"));
      } },
    { "notjson",
      "",
      [](S& s, const Request& r, Seg) {
        return send(s, r, Reply{ 200, "text/plain", "hello, not json", {} });
      } },
    { "nocontent", "", [](S& s, const Request& r, Seg) { return serve_no_content(s, r, true); } },
    { "nullcontent", "", [](S& s, const Request& r, Seg) { return serve_no_content(s, r, false); } },
    { "truncated",
      "",
      [](S& s, const Request&, Seg) { return serve_short_body(s, "truncated reply", 40, After::tcp_close); } },
    { "drop", "", [](S&, const Request&, Seg) { return After::tcp_close; } },
    { "hang", "", [](S&, const Request&, Seg) { return After::hold; } },
    { "stall-body",
      "",
      [](S& s, const Request&, Seg) { return serve_short_body(s, "stalled reply", 20, After::hold); } },
    { "slow-head", "/MS", serve_slow_head<S> },
    { "count", "", serve_count<S> },
    { "sse", "", [](S& s, const Request& r, Seg) { return serve_shaped(s, r, {}); } },
    { "sse-bytes", "", [](S& s, const Request& r, Seg) { return serve_shaped(s, r, {}, true); } },
    { "sse-crlf", "", [](S& s, const Request& r, Seg) { return serve_shaped(s, r, { .eol = "\r\n" }); } },
    { "sse-cr", "", [](S& s, const Request& r, Seg) { return serve_shaped(s, r, { .eol = "\r" }); } },
    { "sse-comments", "", [](S& s, const Request& r, Seg) { return serve_written(s, r, write_comments_stream<S>); } },
    { "sse-multi", "", [](S& s, const Request& r, Seg) { return serve_written(s, r, write_multi_stream<S>); } },
    { "sse-error", "", serve_broken_stream<S> },
    { "sse-malformed", "", serve_broken_stream<S> },
    { "sse-stall", "", serve_broken_stream<S> },
    { "sse-drop", "", serve_broken_stream<S> },
    { "sse-badrecord", "", serve_broken_stream<S> },
    { "sse-nodone", "", [](S& s, const Request& r, Seg) { return serve_shaped(s, r, { .done = false }); } },
    { "sse-nofinish-nodone",
      "",
      [](S& s, const Request& r, Seg) { return serve_shaped(s, r, { .finish = std::nullopt, .done = false }); } },
    { "sse-length", "", [](S& s, const Request& r, Seg) { return serve_shaped(s, r, { .finish = "length" }); } },
    { "sse-refusal", "", [](S& s, const Request& r, Seg) { return serve_written(s, r, write_refusal_stream<S>); } },
    { "sse-reasoning", "", [](S& s, const Request& r, Seg) { return serve_written(s, r, write_reasoning_stream<S>); } },
    { "sse-delay", "/MS", serve_sse_delay<S> },
    { "sse-bench", "/N/SIZE", serve_sse_bench<S> },
    { "sse-json", "", serve_echo<S> },
    { "sse-nocontenttype", "", [](S& s, const Request& r, Seg) { return serve_shaped(s, r, {}, false, ""); } },
    { "sse-big", "/BYTES", serve_sse_big<S> },
    { "counted", "/KEY/MODE...", serve_counted<S> },
    { "flaky", "/KEY/N/KIND", serve_flaky<S> },
    { "attempts", "/KEY", serve_attempts<S> },
    { "no-close-notify", "/KEY", serve_no_close_notify<S> },
    { "batch", "/KEY", serve_batch<S> },
    { "stats", "/KEY", serve_stats<S> },
    { "batchapi", "/KEY/SCENARIO", serve_batchapi<S> },
    { "resp-echo", "", serve_responses<S> },
    { "resp-sse", "", serve_responses<S> },
    { "resp-sse-bench", "/N/SIZE", serve_responses_bench<S> },
    { "resp-reasoning", "", serve_responses<S> },
    { "resp-incomplete", "", serve_responses<S> },
    { "resp-failed", "", serve_responses<S> },
    { "resp-error", "", serve_responses<S> },
    { "resp-noend", "", serve_responses<S> },
    { "resp-only", "", serve_responses<S> },
  };
  return table;
}

template<class Stream>
After serve_mode(Stream& stream, const Request& req, const Segments& seg)
{
  const std::string mode = seg.empty() ? std::string() : seg[0];
  if (is_responses_target(req.target()) && !mode.starts_with("resp-")) {
    for (const Mode<Stream>& m : modes<Stream>()) {
      if (m.name == "resp-" + mode) {
        Segments renamed = seg;
        renamed[0] = m.name;
        return m.serve(stream, req, renamed);
      }
    }
  }
  for (const Mode<Stream>& m : modes<Stream>()) {
    if (m.name == mode) {
      return m.serve(stream, req, seg);
    }
  }
  return unknown_mode(stream, req, mode);
}

// Serves one request; returns what to do with the connection next.
template<class Stream>
After serve(Stream& stream, const Request& req, const std::string& kind)
{
  auto seg = segments(req.target());
  log(kind + ": " + std::string(req.method_string()) + " " + std::string(req.target()) + " -> mode " +
      (seg.empty() ? "(none)" : seg[0]));
  if (const auto refusal = proxy_refusal(req)) {
    const std::string body = "proxy refused: " + std::to_string(*refusal) + "\n";
    std::string head =
      raw_head(*refusal, http::obsolete_reason(http::int_to_status(*refusal)), "text/plain", body.size(), true);
    if (*refusal == 407) {
      head.insert(head.size() - 2, "Proxy-Authenticate: Basic realm=\"gptq-test\"\r\n");
    }
    write_all(stream, head + body);
    return After::graceful_close;
  }
  return serve_mode(stream, req, seg);
}

constexpr std::uint64_t kBodyLimit = 64 * 1024 * 1024;
constexpr std::uint64_t kCountBodyLimit = std::uint64_t{ 1 } << 30;

// The largest request body the mode of `target` takes (see the modes).
std::uint64_t mode_body_limit(std::string_view target)
{
  const auto seg = segments(target);
  return !seg.empty() && (seg[0] == "count" || seg[0] == "batchapi") ? kCountBodyLimit : kBodyLimit;
}

// Reads and serves requests on `stream` until the connection ends.
template<class Stream>
void serve_connection(Stream& stream, const std::string& kind)
{
  boost::beast::flat_buffer buffer; // must persist between reads (keep-alive)
  bool first = true;                // for stats/KEY's connections
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    // The mode, and so the limit, is known only with the head: the largest
    // limit lets the head through, the mode's own applies to the body.
    parser.body_limit(kCountBodyLimit);
    error_code ec;
    // Read the head first so that Expect: 100-continue can be answered.
    http::read_header(stream, buffer, parser, ec);
    if (!ec) {
      const std::uint64_t limit = mode_body_limit(parser.get().target());
      if (const auto length = parser.content_length(); length && *length > limit) {
        ec = http::error::body_limit;
      }
      parser.body_limit(limit); // no body byte has been parsed yet
    }
    if (ec) {
      log(kind + ": read header: " + ec.message());
      lowest(stream).close(ec);
      return;
    }
    if (lower(parser.get()[http::field::expect]) == "100-continue") {
      write_all(stream, "HTTP/1.1 100 Continue\r\n\r\n");
    }
    http::read(stream, buffer, parser, ec);
    if (ec) {
      log(kind + ": read body: " + ec.message());
      lowest(stream).close(ec);
      return;
    }
    const Request req = parser.release();
    if (first) {
      first = false;
      if (const auto key = counting_key(segments(req.target()))) {
        count_connection(*key);
      }
    }
    switch (serve(stream, req, kind)) {
      case After::keep_alive:
        if (req.keep_alive()) {
          continue;
        }
        [[fallthrough]];
      case After::graceful_close:
        close_notify(stream);
        linger_close(lowest(stream));
        return;
      case After::tcp_close:
        linger_close(lowest(stream));
        return;
      case After::hold:
        wait_peer_close(lowest(stream).native_handle(), kHoldSeconds, true);
        lowest(stream).close(ec);
        return;
      case After::reset:
        lowest(stream).set_option(net::socket_base::linger(true, 0), ec);
        lowest(stream).close(ec);
        return;
      case After::done:
        return;
    }
  }
}

// Runs one accepted connection to its end; never throws.
void run_connection(tcp::socket sock, const Kind& kind, ssl::context* tls)
{
  try {
    if (kind.silent) {
      wait_peer_close(sock.native_handle(), kHoldSeconds, false);
      log("silent: connection ended");
      return;
    }
    if (tls == nullptr) {
      serve_connection(sock, kind.name);
      return;
    }
    ssl::stream<tcp::socket> stream(std::move(sock), *tls);
    error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) {
      // Typically the client rejecting our certificate: drop the connection.
      log(std::string(kind.name) + ": handshake: " + ec.message());
      stream.next_layer().close(ec);
      return;
    }
    serve_connection(stream, kind.name);
  } catch (const std::exception& e) {
    log(std::string(kind.name) + ": connection error: " + e.what());
  } catch (...) {
    log(std::string(kind.name) + ": unknown connection error");
  }
}

// Accepts connections forever, one detached thread each.
void accept_loop(tcp::acceptor& acceptor, const Kind& kind, ssl::context* tls)
{
  for (;;) {
    error_code ec;
    tcp::socket sock(acceptor.get_executor());
    acceptor.accept(sock, ec);
    if (ec) {
      log(std::string(kind.name) + ": accept: " + ec.message());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    // As nginx does by default: without it, a reply written in two pieces
    // (head, then body) waits out the client's delayed ACK, 40 ms a request.
    sock.set_option(tcp::no_delay(true), ec);
    try {
      std::thread(run_connection, std::move(sock), std::cref(kind), tls).detach();
    } catch (const std::exception& e) {
      log(std::string(kind.name) + ": cannot start thread: " + e.what());
    }
  }
}

std::unique_ptr<ssl::context> make_tls(const std::string& dir, const char* name)
{
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression | ssl::context::single_dh_use);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
    throw std::runtime_error("cannot set the minimum TLS version");
  }
  const std::string base = dir + "/" + name;
  ctx->use_certificate_chain_file(base + ".pem");
  ctx->use_private_key_file(base + ".key", ssl::context::pem);
  return ctx;
}

// An acceptor on [::1] at the port of `v4`, the 127.0.0.1 acceptor; when
// that port is taken on ::1, `v4` is replaced by one on a new port (a few
// tries). Returns nullptr when ::1 cannot be used at all.
std::unique_ptr<tcp::acceptor> listen_v6_loopback(net::io_context& io, std::unique_ptr<tcp::acceptor>& v4)
{
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto v6 = std::make_unique<tcp::acceptor>(io);
    error_code ec;
    v6->open(tcp::v6(), ec);
    if (!ec) {
      v6->set_option(net::ip::v6_only(true), ec);
    }
    if (!ec) {
      v6->bind(tcp::endpoint(net::ip::make_address_v6("::1"), v4->local_endpoint().port()), ec);
    }
    if (!ec) {
      v6->listen(net::socket_base::max_listen_connections, ec);
    }
    if (!ec) {
      return v6;
    }
    if (ec != net::error::address_in_use) {
      log("https6: ::1 unavailable: " + ec.message());
      return nullptr;
    }
    v4 = std::make_unique<tcp::acceptor>(io, tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), 0));
  }
  return nullptr;
}

[[noreturn]] void quit(int status)
{
  std::fflush(stdout);
  std::fflush(stderr);
  // Connection threads are detached and may be blocked in I/O: skip static
  // destructors rather than race them.
  std::_Exit(status);
}

const char* const kUsage = "usage: gptq_test_server --certs DIR [--timestamps FILE] [--verbose]\n"
                           "  Serves test modes on 127.0.0.1, prints the ports line, and exits\n"
                           "  when stdin reaches EOF or on SIGTERM/SIGINT. --timestamps appends\n"
                           "  the send time of each sse-bench piece to FILE.\n";

// kUsage and the modes, from their table (what each does: the header of
// tests/server/test_server.cpp).
std::string help_text()
{
  std::string text = std::string(kUsage) + "  Modes (the first segment of the target):";
  std::size_t column = 80;
  for (const auto& mode : modes<tcp::socket>()) {
    const std::string word = std::string(mode.name) + std::string(mode.args);
    if (column + 1 + word.size() > 78) {
      text += "\n   ";
      column = 3;
    }
    text += " " + word;
    column += 1 + word.size();
  }
  return text + "\n";
}

struct Arguments {
  std::string certs;
  std::string timestamps;
};

// Reads the command line into `args`; returns the status to exit with
// when there is nothing to serve (--help, a usage error).
std::optional<int> parse_arguments(int argc, char** argv, Arguments& args)
{
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--certs" && i + 1 < argc) {
      args.certs = argv[++i];
    } else if (arg.substr(0, 8) == "--certs=") {
      args.certs = std::string(arg.substr(8));
    } else if (arg == "--timestamps" && i + 1 < argc) {
      args.timestamps = argv[++i];
    } else if (arg.substr(0, 13) == "--timestamps=") {
      args.timestamps = std::string(arg.substr(13));
    } else if (arg == "--verbose") {
      g_verbose = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << help_text();
      return 0;
    } else {
      std::cerr << "gptq_test_server: unknown argument: " << arg << "\n" << kUsage;
      return 2;
    }
  }
  if (args.certs.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  return std::nullopt;
}

// The listeners of every kind (kKinds order) and the ports line.
struct Listeners {
  std::vector<std::unique_ptr<ssl::context>> contexts;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::unique_ptr<tcp::acceptor> https6; // https on [::1], when possible
  std::string ports;
};

// Opens a listener of each kind on an ephemeral port; throws when one
// cannot be opened.
Listeners listen_all(net::io_context& io, const std::string& certs)
{
  Listeners l;
  for (const Kind& kind : kKinds) {
    l.contexts.push_back(kind.cert ? make_tls(certs, kind.cert) : nullptr);
    auto acc = std::make_unique<tcp::acceptor>(io, tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), 0));
    if (l.acceptors.empty()) { // https (the first kind)
      l.https6 = listen_v6_loopback(io, acc);
    }
    l.ports +=
      (l.ports.empty() ? "" : " ") + std::string(kind.name) + "=" + std::to_string(acc->local_endpoint().port());
    l.acceptors.push_back(std::move(acc));
  }
  if (l.https6) {
    l.ports += " https6=" + std::to_string(l.https6->local_endpoint().port());
  }
  return l;
}

// One accepting thread per listener; `l` must outlive them (main's does).
void start_accepting(Listeners& l)
{
  for (std::size_t i = 0; i < kKinds.size(); ++i) {
    std::thread(accept_loop, std::ref(*l.acceptors[i]), std::cref(kKinds[i]), l.contexts[i].get()).detach();
  }
  if (l.https6) {
    std::thread(accept_loop, std::ref(*l.https6), std::cref(kKinds[0]), l.contexts[0].get()).detach();
  }
}

// Blocks SIGTERM and SIGINT in this thread and every thread started after,
// and starts the one thread that takes them (sigwait) and quits. Writes to
// closed sockets must fail, not kill us.
void handle_stop_signals()
{
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::thread([stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    log("signal " + std::to_string(sig) + ": exiting");
    quit(0);
  }).detach();
}

} // namespace

int main(int argc, char** argv)
{
  Arguments args;
  if (const auto status = parse_arguments(argc, argv, args)) {
    return *status;
  }
  if (!args.timestamps.empty()) {
    g_timestamps = std::fopen(args.timestamps.c_str(), "a");
    if (g_timestamps == nullptr) {
      std::cerr << "gptq_test_server: cannot open " << args.timestamps << ": " << std::strerror(errno) << "\n";
      return 1;
    }
  }
  // Before any thread starts, so that they all inherit the signal mask.
  handle_stop_signals();

  net::io_context io;
  Listeners listeners;
  try {
    listeners = listen_all(io, args.certs);
  } catch (const std::exception& e) {
    std::cerr << "gptq_test_server: setup: " << e.what() << "\n";
    return 1;
  }
  start_accepting(listeners);

  std::cout << listeners.ports << "\n" << std::flush;
  if (!std::cout) {
    std::cerr << "gptq_test_server: cannot write the ports line\n";
    quit(1);
  }

  // Stdin EOF (or error) means the test that started us is gone.
  char scratch[256];
  for (;;) {
    const ssize_t got = ::read(STDIN_FILENO, scratch, sizeof scratch);
    if (got == 0 || (got < 0 && errno != EINTR)) {
      break;
    }
  }
  log("stdin closed: exiting");
  quit(0);
}
