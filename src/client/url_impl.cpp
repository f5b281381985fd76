// Boost.URL in header-only mode: its sources, compiled once for the client library.
#include <boost/url/src.hpp>
