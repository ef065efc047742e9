// sse-native, adopted sink.  node bench/servers/sse-native-adopted.mjs <port>
import './sse-native.mjs';
