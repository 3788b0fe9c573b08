// The writing half of core/websocket.hpp: frame headers, whole frames, the handshake key.

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

#include "core/websocket.hpp"

namespace dschat {
namespace {

constexpr std::size_t max_control_payload = 125;

/// The base64 encoding of bytes (at most EVP_MAX_MD_SIZE of them).
std::string base64(const unsigned char* bytes, std::size_t size) {
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> encoded{};
  const int length = EVP_EncodeBlock(encoded.data(), bytes, static_cast<int>(size));
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(length));
}

/// The length of the longest prefix of text, at most limit bytes, that does not cut a UTF-8 character.
std::size_t utf8_prefix(std::string_view text, std::size_t limit) noexcept {
  if (text.size() <= limit) return text.size();
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  return cut;
}

}  // namespace

WsFrameHeader ws_frame_header(WsOpcode opcode, std::uint64_t payload_size) noexcept {
  WsFrameHeader header;
  header.bytes[0] = static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode));
  std::size_t extended = 0;
  if (payload_size < 126) {
    header.bytes[1] = static_cast<char>(payload_size);
  } else if (payload_size <= 0xFFFF) {
    header.bytes[1] = 126;
    extended = 2;
  } else {
    header.bytes[1] = 127;
    extended = 8;
  }
  for (std::size_t i = 0; i < extended; ++i)
    header.bytes[2 + i] = static_cast<char>((payload_size >> (8 * (extended - 1 - i))) & 0xFF);
  header.size = 2 + extended;
  return header;
}

void ws_line_frames(std::string_view text, std::vector<WsLineFrame>& out) {
  while (!text.empty()) {
    const std::size_t lf = text.find('\n');
    const std::string_view line = text.substr(0, lf);
    out.push_back({ws_frame_header(WsOpcode::text, line.size()), line});
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
  }
}

std::string ws_frame(WsOpcode opcode, std::string_view payload) {
  std::string frame(ws_frame_header(opcode, payload.size()).view());
  frame.append(payload);
  return frame;
}

std::string ws_close_frame(std::uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, utf8_prefix(reason, max_control_payload - 2)));
  return ws_frame(WsOpcode::close, payload);
}

std::string ws_ping_frame(std::string_view payload) {
  return ws_frame(WsOpcode::ping, payload.substr(0, max_control_payload));
}

std::string ws_pong_frame(std::string_view payload) {
  return ws_frame(WsOpcode::pong, payload.substr(0, max_control_payload));
}

std::string ws_client_frame(WsOpcode opcode, std::string_view payload, std::array<std::uint8_t, 4> mask,
                            bool fin) {
  std::string frame;
  ws_append_client_frame(frame, opcode, payload, mask, fin);
  return frame;
}

void ws_append_client_frame(std::string& out, WsOpcode opcode, std::string_view payload,
                            std::array<std::uint8_t, 4> mask, bool fin) {
  const WsFrameHeader header = ws_frame_header(opcode, payload.size());
  const std::size_t at = out.size();
  out.append(header.view());
  if (!fin) out[at] = static_cast<char>(out[at] & 0x7F);
  out[at + 1] = static_cast<char>(out[at + 1] | 0x80);
  for (const std::uint8_t byte : mask)
    out.push_back(static_cast<char>(byte));
  const std::size_t start = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out[start + i] = static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ mask[i & 3]);
}

std::string ws_client_key(const std::array<std::uint8_t, 16>& nonce) {
  return base64(nonce.data(), nonce.size());
}

std::string ws_accept_key(std::string_view client_key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input(client_key);
  input.append(guid);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("SHA-1 failed");
  return base64(digest.data(), digest_size);
}

}  // namespace dschat
