/* SPDX-License-Identifier: Apache-2.0 */
/* admin_assets: the admin site's style sheet and script, served from the site itself
 * (nothing loads from outside the lab). Original work [model: the layout and colours
 * follow the WAP admin site's, README "The portals in a browser"]. */

const char admin_css[] = "body{font-family:\"Segoe UI\",Arial,sans-serif;margin:0}main{padding:1em 2em}\n";

const char admin_js[] = "\"use strict\";\n";
