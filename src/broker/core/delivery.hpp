// Delivery: one message on its way to one session, as the router hands it to the
// worker that owns the session.
// Thread-safety: a value moved between threads through a worker's inbox.
#pragma once

#include "message.hpp"
#include "session.hpp"
#include "session_handle.hpp"

namespace cicada::broker {

struct Delivery {
  SessionHandlePtr session;
  MessagePtr message;
  DeliveryOptions options;
};

}  // namespace cicada::broker
