#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace dschat {

/// Telnet protocol bytes (RFC 854, 856, 860).
namespace telnet {
inline constexpr char iac = '\xFF';
inline constexpr char dont = '\xFE';
inline constexpr char do_ = '\xFD';
inline constexpr char wont = '\xFC';
inline constexpr char will = '\xFB';
inline constexpr char sb = '\xFA';
inline constexpr char se = '\xF0';
inline constexpr char ip = '\xF4';     ///< interrupt process: what telnet sends for ^C
inline constexpr char ao = '\xF5';     ///< abort output: ^O
inline constexpr char brk = '\xF3';    ///< break: ^\ (kludge line mode)
inline constexpr char abort = '\xEE';  ///< abort process: ^\ (other modes)
inline constexpr char susp = '\xED';   ///< suspend process: ^Z
inline constexpr char binary = '\x00';
inline constexpr char timing_mark = '\x06';
}  // namespace telnet

/// Removes the telnet protocol from a client's byte stream and says what to answer (sans-I/O).
///
/// 0xFF (IAC) never occurs in UTF-8, so a client that never sends it is not a telnet client and passes
/// through untouched: nothing is ever sent to it. netkit and inetutils telnet compare each typed byte,
/// 8th bit stripped, with their special characters, so the UTF-8 continuation bytes 0x83, 0x8F, 0x9C,
/// 0x9A leave as IAC IP, AO, BRK (or ABORT), SUSP: inside a UTF-8 sequence those commands are turned
/// back into the byte they replaced, and the first time it happens the client is asked to send binary
/// (IAC DO BINARY, RFC 856), in which telnet sends typed bytes unchanged. DO TIMING-MARK is answered
/// WILL TIMING-MARK (RFC 860); every other option is refused, once; no command is ever part of the data.
class TelnetFilter {
 public:
  /// The data bytes of chunk, in order: chunk itself when it holds no telnet (no copy), otherwise a view
  /// of an internal buffer valid until the next call. What to send back is appended to replies.
  std::string_view feed(std::string_view chunk, std::string& replies);

  /// True once the client sent a telnet command.
  bool active() const noexcept { return active_; }

 private:
  enum class State : std::uint8_t { data, iac, option, subnegotiation, subnegotiation_iac };

  void command(char byte, std::string& replies);
  void option(char byte, std::string& replies);
  void data_byte(char byte);

  /// What only a telnet client needs, allocated when its first IAC arrives: every other client keeps
  /// 16 bytes here instead of 104.
  struct Negotiation {
    std::string clean;         // the data bytes of the chunk being filtered
    std::bitset<512> refused;  // options already refused (DO, then WILL): a refusal is sent once, so
                               // nothing can loop
  };

  std::unique_ptr<Negotiation> talk_;
  State state_ = State::data;
  char verb_ = 0;               // WILL, WONT, DO or DONT waiting for its option byte
  std::uint8_t utf8_left_ = 0;  // continuation bytes the last data bytes still expect
  bool active_ = false;
  bool asked_binary_ = false;
  bool after_cr_ = false;  // the last data byte was CR: a NUL after it is telnet's bare-CR padding
};

}  // namespace dschat
