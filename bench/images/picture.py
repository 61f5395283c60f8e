"""Draws docs/image-search.png: a query photo beside what `POST /v1/search/image`
answers on the demo market. Builds the demo (generated pictures, no services),
serves it on loopback, sends a picture it draws itself — a blue bicycle, shot a
little differently from the demo's — and lays out the query and the top results'
thumbnails with their category, price and similarity.

Usage: bench/.venv/bin/python bench/images/picture.py [--bin target/release/wantloop]
(needs Pillow; bench/images/run.sh installs it)."""
import argparse, io, json, os, re, subprocess, tempfile, time, urllib.request

from PIL import Image, ImageDraw


def query_picture():
    """Two wheels and a frame in blue, off-centre and a little larger than the demo's."""
    img = Image.new("RGB", (200, 150), (236, 232, 226))
    d = ImageDraw.Draw(img)
    for cx in (62, 138):
        d.ellipse((cx - 30, 58, cx + 30, 118), outline=(35, 80, 205), width=8)
    d.rectangle((62, 84, 138, 92), fill=(35, 80, 205))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def main():
    ap = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/wantloop/target"))
    ap.add_argument("--bin", default=os.path.join(target, "release", "wantloop"))
    ap.add_argument("--out", default=os.path.join(root, "docs", "image-search.png"))
    a = ap.parse_args()
    work = tempfile.mkdtemp()
    subprocess.run([a.bin, "demo", "--data-dir", work, "--no-serve", "--json"], check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen([a.bin, "serve", "--open", "--data-dir", work, "--listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = None
        for _ in range(200):
            line = server.stdout.readline()
            m = re.search(r"http://[0-9.:]+", line or "")
            if m:
                base = m.group(0)
                break
            time.sleep(0.05)
        assert base, "the server did not start"
        query = query_picture()
        req = urllib.request.Request(base + "/v1/search/image?k=5", data=query, headers={"content-type": "image/jpeg"})
        hits = json.load(urllib.request.urlopen(req))
        thumbs = []
        for h in hits:
            o = h["offer"]
            url = f"{base}/v1/offers/{o['id']}/images/{h['image_position']}?size=thumb"
            thumbs.append((Image.open(io.BytesIO(urllib.request.urlopen(url).read())).convert("RGB"), h))
    finally:
        server.terminate()
    cell, pad = 170, 12
    sheet = Image.new("RGB", (pad + (cell + pad) * (1 + len(thumbs)), cell + 70), "white")
    d = ImageDraw.Draw(sheet)
    q = Image.open(io.BytesIO(query)).convert("RGB")
    q.thumbnail((cell, cell - 20))
    sheet.paste(q, (pad, 30))
    d.text((pad, 8), "query (a photo)", fill="black")
    for i, (t, h) in enumerate(thumbs):
        x = pad + (cell + pad) * (i + 1)
        t.thumbnail((cell, cell - 20))
        sheet.paste(t, (x, 30))
        o = h["offer"]
        d.text((x, 8), f"#{i + 1}  similarity {h['similarity']:.3f}", fill="black")
        d.text((x, cell + 16), f"{o['category']}, {o['price'] / 100:.0f} yuan", fill="black")
        d.text((x, cell + 32), f"offer {o['id']}", fill=(90, 90, 90))
    sheet.save(a.out)
    print(json.dumps([{"offer": h["offer"]["id"], "category": h["offer"]["category"], "similarity": h["similarity"]} for _, h in thumbs]))


if __name__ == "__main__":
    main()
