#include "core/room_admission.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/line_framer.hpp"

using dschat::AdmissionState;
using dschat::AdmissionStep;
using dschat::FrameKind;
using dschat::LineFramer;
using dschat::RoomAdmission;
using Action = AdmissionStep::Action;
using namespace std::chrono_literals;

namespace {

const RoomAdmission::Clock::time_point t0{};
constexpr std::string_view secret = "open sesame";

RoomAdmission waiting() {
  return RoomAdmission(secret, t0 + 20s);
}

// Frames a byte stream cut into two chunks at `at` and hands each line to admission; returns the actions.
std::vector<Action> feed_split(RoomAdmission& admission, std::string_view stream, std::size_t at) {
  std::vector<Action> actions;
  LineFramer framer(4096);
  const auto on_frame = [&](FrameKind kind, std::string_view line) {
    REQUIRE(kind == FrameKind::line);
    const AdmissionStep step = admission.on_line(line);
    actions.push_back(step.action);
    return step.action != Action::admit && step.action != Action::refuse && step.action != Action::quit;
  };
  if (framer.feed(stream.substr(0, at), on_frame)) framer.feed(stream.substr(at), on_frame);
  return actions;
}

}  // namespace

TEST_CASE("RoomAdmission::on_line") {
  SUBCASE("the right password admits") {
    RoomAdmission admission = waiting();
    const AdmissionStep step = admission.on_line("/pass open sesame");
    CHECK(step.action == Action::admit);
    CHECK(step.text.empty());
    CHECK(admission.state() == AdmissionState::admitted);
    // Once admitted, the room has the lines: admission answers nothing more, and no deadline applies.
    CHECK(admission.on_line("/pass x").action == Action::none);
    CHECK(admission.expire(t0 + 1h).empty());
  }

  SUBCASE("any case of /pass, blanks around the password") {
    RoomAdmission admission = waiting();
    CHECK(admission.on_line("/PASS \t open sesame  ").action == Action::admit);
  }

  SUBCASE("three wrong passwords refuse") {
    RoomAdmission admission = waiting();
    AdmissionStep step = admission.on_line("/pass open");
    CHECK(step.action == Action::reply);
    CHECK(step.text == "! wrong password — 2 tries left");
    step = admission.on_line("/pass open sesame!");
    CHECK(step.action == Action::reply);
    CHECK(step.text == "! wrong password — 1 try left");
    CHECK(admission.tries_left() == 1);
    step = admission.on_line("/pass OPEN SESAME");
    CHECK(step.action == Action::refuse);
    CHECK(step.text == "! wrong password");
    CHECK(admission.state() == AdmissionState::refused);
    // Refused is final: not even the right password helps now.
    CHECK(admission.on_line("/pass open sesame").action == Action::none);
  }

  SUBCASE("a wrong password then the right one") {
    RoomAdmission admission = waiting();
    CHECK(admission.on_line("/pass nope").action == Action::reply);
    CHECK(admission.on_line("/pass open sesame").action == Action::admit);
  }

  SUBCASE("anything but /pass, /quit and /help is answered, and costs no try") {
    RoomAdmission admission = waiting();
    for (std::string_view line : {"hello", "/nick bob", "/who", "/me waves", "//pass open sesame", "/",
                                  "/passx", "pass open sesame"}) {
      const AdmissionStep step = admission.on_line(line);
      CHECK_MESSAGE(step.action == Action::reply, line);
      CHECK(step.text.starts_with("! send /pass PASSWORD first"));
    }
    CHECK(admission.on_line("").action == Action::none);
    AdmissionStep step = admission.on_line("/pass");
    CHECK(step.action == Action::reply);
    CHECK(step.text == "! usage: /pass PASSWORD");
    CHECK(admission.on_line("/pass   ").text == "! usage: /pass PASSWORD");
    step = admission.on_line("/help");
    CHECK(step.action == Action::reply);
    CHECK(step.text.starts_with("* "));
    CHECK(admission.tries_left() == RoomAdmission::max_tries);
    CHECK(admission.state() == AdmissionState::waiting);
    CHECK(admission.on_line("/Quit bye").action == Action::quit);
  }

  SUBCASE("no reply holds the password or what was typed") {
    RoomAdmission admission = waiting();
    for (std::string_view line : {"/pass open", "/pass sesame", "open sesame", "/help open sesame"}) {
      const std::string_view text = admission.on_line(line).text;
      CHECK(text.find("open") == std::string_view::npos);
      CHECK(text.find("sesame") == std::string_view::npos);
    }
    CHECK(RoomAdmission::greeting().find("sesame") == std::string_view::npos);
  }
}

TEST_CASE("RoomAdmission::expire") {
  RoomAdmission admission = waiting();
  CHECK(admission.expire(t0 + 19s).empty());
  CHECK(admission.state() == AdmissionState::waiting);
  CHECK(admission.expire(t0 + 20s) == "! password required");
  CHECK(admission.state() == AdmissionState::refused);
  CHECK(admission.expire(t0 + 21s).empty());  // told once
  CHECK(admission.on_line("/pass open sesame").action == Action::none);
}

TEST_CASE("RoomAdmission::greeting") {
  CHECK(RoomAdmission::greeting().starts_with("* "));
  CHECK(RoomAdmission::greeting().find("/pass") != std::string_view::npos);
}

TEST_CASE("RoomAdmission after framing, split at every byte") {
  const std::vector<std::pair<std::string, std::vector<Action>>> streams = {
      {"/pass open sesame\r\n", {Action::admit}},
      {"hi\n/pass open sesame\nafter\n", {Action::reply, Action::admit}},
      {"/pass a\n/pass b\n/pass c\n/pass open sesame\n", {Action::reply, Action::reply, Action::refuse}},
      {"\n/help\n/quit\n/pass open sesame\n", {Action::none, Action::reply, Action::quit}},
  };
  for (const auto& item : streams) {
    const std::string& stream = item.first;  // not a structured binding: clang 14 cannot capture one
    const std::vector<Action>& expected = item.second;
    for (std::size_t at = 0; at <= stream.size(); ++at) {
      RoomAdmission admission = waiting();
      CHECK_MESSAGE(feed_split(admission, stream, at) == expected, stream, " split at ", at);
    }
  }
}

TEST_CASE("trim_password") {
  CHECK(dschat::trim_password(" \tpw \t") == "pw");
  CHECK(dschat::trim_password("a b") == "a b");
  CHECK(dschat::trim_password("   ").empty());
}
