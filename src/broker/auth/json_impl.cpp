// Boost.JSON compiled from its headers: Debian's Boost 1.81 development package ships the
// headers, and linking libboost_json would need another package for one small library.
#include <boost/json/src.hpp>
