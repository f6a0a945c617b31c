#include "notify/provider.h"

#include "core/strings.h"

namespace herald::notify {

std::string_view ChannelName(Channel channel) {
  switch (channel) {
    case Channel::kEmail:
      return "email";
    case Channel::kSms:
      return "sms";
    case Channel::kWhatsApp:
      return "whatsapp";
    case Channel::kChat:
      return "chat";
  }
  return "email";
}

Result<Channel> ParseChannel(std::string_view name) {
  for (Channel c : {Channel::kEmail, Channel::kSms, Channel::kWhatsApp, Channel::kChat}) {
    if (ChannelName(c) == name) return c;
  }
  return absl::InvalidArgumentError(
      StrCat("unknown channel '", name.substr(0, 32), "': expected email, sms, whatsapp or chat"));
}

}  // namespace herald::notify
