// libFuzzer target for the WebSocket handshake and frame decoder (src/net).
//
// The first byte selects the parser (even: frames, odd: handshake) and, with the
// second, the size of the pieces the rest is fed in. Each input is decoded twice, once
// whole and once in pieces; both must give the same bytes, events and outcome, which
// ties the incremental state machines to themselves across every split.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "net/websocket_frames.hpp"
#include "net/websocket_handshake.hpp"

namespace {

namespace websocket = cicada::net::websocket;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "websocket_fuzz invariant violated: %s\n", what);
  std::abort();
}

struct FrameRun {
  std::vector<std::uint8_t> data;
  std::vector<int> events;  // event, and for control events the payload size
  bool ended = false;
  int error = 0;
  std::uint16_t close_code = 0;
};

FrameRun decode_frames(std::vector<std::uint8_t> input, std::size_t piece) {
  websocket::FrameDecoder decoder({.max_frame_size = 4096});
  FrameRun run;
  std::size_t at = 0;
  while (at < input.size() && !decoder.ended()) {
    const std::size_t size = std::min(piece, input.size() - at);
    std::size_t used = 0;
    while (used < size && !decoder.ended()) {
      std::span<std::uint8_t> chunk(input.data() + at + used, size - used);
      // Output goes to the start of the whole chunk, the farthest back allowed.
      std::uint8_t* out = input.data() + at;
      const auto step = decoder.decode(chunk, out);
      require(step.consumed <= chunk.size(), "consumed more than given");
      require(step.data <= step.consumed, "more data than bytes consumed");
      run.data.insert(run.data.end(), out, out + step.data);
      used += step.consumed;
      if (step.event != websocket::FrameDecoder::Event::none) {
        run.events.push_back(static_cast<int>(step.event));
        run.events.push_back(static_cast<int>(decoder.control_payload().size()));
        require(decoder.control_payload().size() <= 125, "control payload above 125 bytes");
      } else {
        require(step.consumed == chunk.size(), "stopped without an event");
        break;
      }
    }
    at += size;
  }
  run.ended = decoder.ended();
  run.error = static_cast<int>(decoder.error());
  run.close_code = decoder.peer_close_code();
  return run;
}

struct HandshakeRun {
  websocket::Handshake::State state;
  std::string response;
  std::string leftover;
};

HandshakeRun run_handshake(const std::vector<std::uint8_t>& input, std::size_t piece) {
  websocket::Handshake handshake({.max_request_size = 1024});
  std::size_t taken = 0;
  for (std::size_t at = 0; at < input.size(); at += piece) {
    const std::size_t size = std::min(piece, input.size() - at);
    taken += handshake.feed({input.data() + at, size});
  }
  require(taken <= 1024, "the handshake buffered more than its bound");
  // What follows the request: the leftover, then what feed() did not take.
  std::string after(handshake.leftover().begin(), handshake.leftover().end());
  after.append(input.begin() + static_cast<std::ptrdiff_t>(taken), input.end());
  require(
      handshake.state() == websocket::Handshake::State::reading || !handshake.response().empty(),
      "a finished handshake without a response");
  return {handshake.state(), handshake.response(), after};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size < 2) return 0;
  const bool frames = (bytes[0] & 1) == 0;
  const std::size_t piece = 1 + (std::size_t{bytes[1]} % 17);
  const std::vector<std::uint8_t> input(bytes + 2, bytes + size);
  if (frames) {
    const FrameRun whole = decode_frames(input, std::max<std::size_t>(input.size(), 1));
    const FrameRun split = decode_frames(input, piece);
    require(whole.data == split.data, "data differs across splits");
    require(whole.events == split.events, "events differ across splits");
    require(whole.ended == split.ended && whole.error == split.error &&
                whole.close_code == split.close_code,
            "outcome differs across splits");
  } else {
    const HandshakeRun whole = run_handshake(input, std::max<std::size_t>(input.size(), 1));
    const HandshakeRun split = run_handshake(input, piece);
    require(whole.state == split.state, "handshake state differs across splits");
    require(whole.response == split.response, "handshake response differs across splits");
    if (whole.state == websocket::Handshake::State::accepted)
      require(whole.leftover == split.leftover, "leftover differs across splits");
  }
  return 0;
}
